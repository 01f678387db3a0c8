// Architecture guard, run by `pnpm lint` (see packages/core/README.md, "Layout"):
// - no import cycles (type-only imports count too);
// - the layers below the services (schema, domain, query, errors, events, storage) import no service;
// - the domain stays pure: no storage, no services, no features;
// - core never imports an opt-in feature (tasks, activities, assignment, custom fields, duplicates, imports, merges, reports,
//   scoring, scheduler, observe, feed, webhooks, access, automations) nor the test kit, not even for types: it talks to features through hooks;
// - a feature imports another feature's code only when it declares it in `requires` (scheduler → tasks);
//   types may cross (observers type the task and activity observers);
// - consumers/ (the feed's consumer machinery) is shared by features, like a service.
const CORE = 'packages/core/src/';
const SERVICES = `${CORE}(crm|cards|leads|contacts|companies|deals|funnel|pipelines|timeline|consumers)/`;
const FEATURES = `${CORE}(tasks|activities|assignment|custom-fields|duplicates|imports|merges|reports|scoring|scheduler|observe|feed|webhooks|access|automations)/`;
const LOWER = `${CORE}(schema|domain|query|errors|events|storage)/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles hide the layering and defeat tree-shaking and lazy features. One exception: the kernel types are mutually ' +
        'recursive (a context holds the feature hooks, which take an operation, which holds the context), so crm/context.ts, ' +
        'crm/feature-hooks.ts and crm/operation.ts may form a type-only cycle.',
      from: {},
      to: { circular: true, viaSomeNot: `^${CORE}crm/(context|feature-hooks|operation)\\.ts$` },
    },
    {
      name: 'kernel-types-cycle-is-type-only',
      severity: 'error',
      comment: 'The kernel cycle above must stay type-only: at run time the context, hooks and operation modules import each other never.',
      from: { path: `^${CORE}crm/(context|feature-hooks)\\.ts$` },
      to: { path: `^${CORE}crm/(context|feature-hooks|operation)\\.ts$`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'The domain is pure functions over records: it must not reach storage, services or features.',
      from: { path: `^${CORE}domain/` },
      to: { path: `^${CORE}(storage|testing)/|^${SERVICES}|^${FEATURES}` },
    },
    {
      name: 'lower-layers-import-no-services',
      severity: 'error',
      comment: 'schema, domain, query, errors, events and storage sit below the services.',
      from: { path: `^${LOWER}` },
      to: { path: `^${SERVICES}|^${FEATURES}|^${CORE}testing/` },
    },
    {
      name: 'core-imports-no-feature',
      severity: 'error',
      comment: 'Features are opt-in: core must work (and bundle) without them. Features hook in through crm/feature.ts.',
      from: { path: `^(${SERVICES}|${LOWER}|${CORE}index\\.ts$)` },
      to: { path: `^${FEATURES}|^${CORE}testing/` },
    },
    {
      name: 'features-are-independent',
      severity: 'error',
      comment: 'A feature runs only with the features it declares in `requires`: other features code is off limits (types are free).',
      from: { path: `^${FEATURES}`, pathNot: `^${CORE}scheduler/` },
      to: { path: `^${FEATURES}`, pathNot: `^${CORE}$1/`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'scheduler-needs-only-tasks',
      severity: 'error',
      comment: 'The scheduler requires tasks() and nothing else.',
      from: { path: `^${CORE}scheduler/` },
      to: { path: `^${FEATURES}`, pathNot: `^${CORE}(scheduler|tasks)/`, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
