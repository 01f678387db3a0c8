// Architecture guard, run by `pnpm lint` (see packages/core/README.md, "Layout"):
// - no import cycles (type-only imports count too);
// - the layers below the services (schema, domain, query, errors, events, storage) import no service;
// - the domain stays pure: no storage, no services, no features;
// - core never imports an opt-in feature (reports, scoring, scheduler, observe, access) nor the test kit.
const CORE = 'packages/core/src/';
const SERVICES = `${CORE}(crm|cards|leads|contacts|companies|deals|funnel|pipelines|assignment|tasks|calendar|activities|timeline|custom-fields)/`;
const FEATURES = `${CORE}(reports|scoring|scheduler|observe|access)/`;
const LOWER = `${CORE}(schema|domain|query|errors|events|storage)/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles hide the layering and defeat tree-shaking and lazy features.',
      from: {},
      to: { circular: true },
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
      comment: 'One feature must not need another: each is installed on its own.',
      from: { path: `^${FEATURES}` },
      to: { path: `^${FEATURES}`, pathNot: `^${CORE}$1/` },
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
