import * as z from 'zod/mini';
import { CrmError, validationError, type ValidationIssue } from '../errors/crm-error.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { createIdGenerator } from '../domain/ids.js';
import { createCryptoRandom, createSeededRandom, type Random } from '../domain/random.js';
import { EventBus } from './event-bus.js';
import { currencySchema, tenantIdSchema, userIdSchema } from '../schema/primitives.js';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import type { StorageAdapter } from '../storage/storage-adapter.js';
import { ActivityService } from '../activities/activity-service.js';
import { CompanyService } from '../companies/company-service.js';
import { ContactService } from '../contacts/contact-service.js';
import { ConfigRevision, CustomFieldCache, SettingsCache, type Actor, type CrmContext } from './context.js';
import type { Crm } from './crm.js';
import type { CrmFeature, FeatureApis, FeatureRuntime } from './feature.js';
import type { FeatureHooks } from './feature-hooks.js';
import { CustomFieldService } from '../custom-fields/custom-field-service.js';
import { DealService } from '../deals/deal-service.js';
import { LeadService } from '../leads/lead-service.js';
import { consoleLogger, type Logger } from './logger.js';
import { parseInput } from './parse-input.js';
import { PipelineService } from '../pipelines/pipeline-service.js';
import { FunnelService } from '../funnel/funnel-service.js';
import { AssignmentService } from '../assignment/assignment-service.js';
import { CalendarService } from '../calendar/calendar-service.js';
import { IdentityService } from '../identity/identity-service.js';
import { internationalPhoneParser, type PhoneNumberParser } from '../domain/phone-numbers.js';
import { TaskService } from '../tasks/task-service.js';
import { backfillTaskDeadlines } from '../tasks/task-writer.js';
import { EventLogService, readTimeline } from '../timeline/timeline-service.js';

/** Options of `createCrm`. */
export interface CreateCrmOptions<F extends readonly CrmFeature[] = readonly CrmFeature[]> {
  /** Where data lives: `createMemoryStorage()`, `createSqliteStorage(…)`, `createIndexedDbStorage(…)`, … */
  readonly storage: StorageAdapter;
  /** The tenant every call of this instance is bound to. */
  readonly tenantId: string;
  /** The acting user, recorded on events and used as default owner. */
  readonly actor?: Actor;
  /** Time source (default: the system clock). Tests pass `createFakeClock()`. */
  readonly clock?: Clock;
  /** Randomness for ids (default: crypto). A seed makes ids reproducible. */
  readonly random?: Random | { readonly seed: number | string };
  /** Where crmkit reports failing handlers and scheduler progress (default: console warnings and errors). */
  readonly logger?: Logger;
  /** Currency of deals created without one (default `USD`). */
  readonly defaultCurrency?: string;
  /** `close()` also closes the storage (default true). Set false when several tenants share one adapter. */
  readonly closeStorage?: boolean;
  /**
   * Opt-in features, each from its own entry point: `reports()` (`@crmkit/core/reports`), `scoring()`
   * (`@crmkit/core/scoring`), `scheduler()` (`@crmkit/core/scheduler`, also needed for recurring tasks),
   * `observers()` (`@crmkit/core/observe`, needed by `@crmkit/react-hooks`). Each adds `crm[feature.key]`.
   */
  readonly features?: F;
  /**
   * Reads phone numbers into their E.164 identity. The built-in parser only reads international
   * spellings (`+33 6 …`, `0033 6 …`); `phoneNumbers` from `@crmkit/core/phone` (libphonenumber-js)
   * also reads national ones (`06 …`) with the tenant's default region (`crm.identity.set`).
   */
  readonly phoneNumbers?: PhoneNumberParser;
}

const optionsSchema = z.object({
  tenantId: tenantIdSchema,
  actor: z.optional(z.strictObject({ userId: userIdSchema })),
  defaultCurrency: z.optional(currencySchema),
});

const OPTION_KEYS = ['storage', 'tenantId', 'actor', 'clock', 'random', 'logger', 'defaultCurrency', 'closeStorage', 'features', 'phoneNumbers'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const hasMethods = (value: unknown, names: readonly string[]) => isObject(value) && names.every((n) => typeof value[n] === 'function');

/**
 * Checks the options that are not plain data (objects with methods) and the keys: an unknown or
 * misspelt option (`schedular`) is refused, never ignored.
 */
function checkOptions(options: unknown): void {
  const issues: ValidationIssue[] = [];
  if (!isObject(options)) throw validationError('createCrm', [{ path: [], code: 'invalid_type', message: 'pass an options object' }]);
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      const hint = key === 'scheduler' ? ' (scheduler options go to the feature: features: [scheduler({ … })])' : '';
      issues.push({ path: [key], code: 'unknown_field', message: `unknown option "${key.slice(0, 50)}"${hint} (known: ${OPTION_KEYS.join(', ')})` });
    }
  }
  if (!hasMethods(options.storage, ['open', 'transaction', 'onChange', 'close'])) {
    issues.push({ path: ['storage'], code: 'required', message: 'pass a storage adapter such as createMemoryStorage()' });
  }
  if (options.clock !== undefined && !hasMethods(options.clock, ['now', 'setTimer'])) issues.push({ path: ['clock'], code: 'invalid_type', message: 'must have now() and setTimer()' });
  if (options.logger !== undefined && !hasMethods(options.logger, ['debug', 'info', 'warn', 'error'])) issues.push({ path: ['logger'], code: 'invalid_type', message: 'must have debug, info, warn and error' });
  if (options.phoneNumbers !== undefined && !hasMethods(options.phoneNumbers, ['toE164'])) issues.push({ path: ['phoneNumbers'], code: 'invalid_type', message: 'must be a phone parser such as phoneNumbers from @crmkit/core/phone' });
  if (options.closeStorage !== undefined && typeof options.closeStorage !== 'boolean') issues.push({ path: ['closeStorage'], code: 'invalid_type', message: 'must be true or false' });
  const random = options.random;
  if (random !== undefined && !hasMethods(random, ['next'])) {
    const seed = isObject(random) ? random.seed : undefined;
    const validSeed = (typeof seed === 'number' && Number.isFinite(seed)) || (typeof seed === 'string' && seed.length <= 200);
    if (!isObject(random) || !validSeed || Object.keys(random).some((k) => k !== 'seed')) {
      issues.push({ path: ['random'], code: 'invalid_type', message: 'must be a Random (next()) or { seed: number | string }' });
    }
  }
  if (issues.length) throw validationError('createCrm', issues);
}

/** The core services of a context (a crm, later each view of it). */
function coreServices(ctx: CrmContext, close: () => Promise<void>): Crm {
  return {
    tenantId: ctx.tenantId,
    leads: new LeadService(ctx),
    contacts: new ContactService(ctx),
    companies: new CompanyService(ctx),
    deals: new DealService(ctx),
    pipelines: new PipelineService(ctx),
    customFields: new CustomFieldService(ctx),
    activities: new ActivityService(ctx),
    eventLog: new EventLogService(ctx),
    funnel: new FunnelService(ctx),
    assignment: new AssignmentService(ctx),
    calendar: new CalendarService(ctx),
    identity: new IdentityService(ctx),
    tasks: new TaskService(ctx),
    timeline: (ref, timelineOptions) => readTimeline(ctx, ref, timelineOptions),
    on: (name, handler) => ctx.bus.on(name, handler),
    close,
  };
}

/** Adds each feature's API as a lazy property: built on first read, once per crm. */
function attachFeatures(crm: Crm, ctx: CrmContext, runtimes: readonly (readonly [string, FeatureRuntime<unknown>])[]): void {
  for (const [key, runtime] of runtimes) {
    let api: unknown;
    let built = false;
    Object.defineProperty(crm, key, {
      enumerable: true,
      get: () => {
        if (!built) {
          api = runtime.api(ctx, crm);
          built = true;
        }
        return api;
      },
    });
  }
}

function checkFeatures(features: readonly CrmFeature[]): void {
  const reserved = new Set(['tenantId', 'leads', 'contacts', 'companies', 'deals', 'pipelines', 'customFields', 'activities', 'eventLog', 'funnel', 'assignment', 'calendar', 'identity', 'tasks', 'timeline', 'on', 'close', 'as']);
  const seen = new Set<string>();
  features.forEach((feature, i) => {
    const key = (feature as { key?: unknown } | null)?.key;
    const problem =
      typeof key !== 'string' || typeof feature.setup !== 'function'
        ? 'must be a feature such as reports() from @crmkit/core/reports'
        : reserved.has(key)
          ? `"${key}" is a core property of the crm`
          : seen.has(key)
            ? `feature "${key}" is given twice`
            : undefined;
    if (problem) throw new CrmError('VALIDATION', `createCrm: invalid feature: ${problem}`, { issues: [{ path: ['features', i], code: 'invalid_value', message: problem }] });
    seen.add(key as string);
  });
}

/**
 * Creates a CRM instance bound to one tenant: opens (and migrates) the storage, sets up the features
 * passed, then exposes the services.
 *
 * @param options Storage, tenant, actor, clock, features…
 * @returns The crm, typed with the APIs of the features passed.
 * @throws CrmError `VALIDATION` for a bad tenant id, actor, currency, storage or feature list.
 * @example
 * import { createCrm, createMemoryStorage } from '@crmkit/core';
 * import { reports } from '@crmkit/core/reports';
 * const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'u1' }, features: [reports()] });
 * const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@example.com' });
 */
export async function createCrm<const F extends readonly CrmFeature[] = []>(options: CreateCrmOptions<F>): Promise<Crm & FeatureApis<F>> {
  checkOptions(options);
  const parsed = parseInput(optionsSchema, { tenantId: options.tenantId, actor: options.actor, defaultCurrency: options.defaultCurrency }, 'createCrm');
  const features: readonly CrmFeature[] = options.features ?? [];
  if (!Array.isArray(features)) {
    throw new CrmError('VALIDATION', 'createCrm: features must be a list', { issues: [{ path: ['features'], code: 'invalid_type', message: 'must be a list of features' }] });
  }
  checkFeatures(features);
  const storage = options.storage;
  const random =
    options.random && 'seed' in options.random ? createSeededRandom(options.random.seed) : ((options.random as Random | undefined) ?? createCryptoRandom());
  const logger = options.logger ?? consoleLogger;
  const bus = new EventBus(logger);
  const revision = new ConfigRevision(parsed.tenantId);
  const customFields = new CustomFieldCache(parsed.tenantId, revision);
  const settings = new SettingsCache(revision);
  const hooks: { -readonly [K in keyof FeatureHooks]: FeatureHooks[K] } = {};
  let closed = false;

  await storage.open(CRM_STORAGE_SCHEMA);
  const stopWatching = storage.onChange((batch) => {
    // Other processes and tabs change definitions and settings too: drop the caches on any such change.
    if (batch.changes.some((c) => c.entity === 'customField')) customFields.invalidate();
    if (batch.changes.some((c) => c.entity === 'setting')) settings.invalidate();
  });

  const ctx: CrmContext = {
    storage,
    tenantId: parsed.tenantId,
    actor: parsed.actor,
    clock: options.clock ?? systemClock,
    random,
    newId: createIdGenerator(random),
    bus,
    logger,
    defaultCurrency: parsed.defaultCurrency ?? 'USD',
    customFields,
    settings,
    phoneParser: options.phoneNumbers ?? internationalPhoneParser,
    hooks,
    assertOpen() {
      if (closed) throw new CrmError('CLOSED', 'This crm instance is closed', { what: 'crm' });
    },
  };

  let runtimes: (readonly [string, FeatureRuntime<unknown>])[];
  try {
    const backfilled = await backfillTaskDeadlines(ctx);
    if (backfilled > 0) logger.info('crmkit: gave stored open tasks their deadlineAt', { tasks: backfilled });
    runtimes = features.map((feature) => [feature.key, feature.setup(ctx)] as const);
    for (const [key, runtime] of runtimes) {
      for (const [name, hook] of Object.entries(runtime.hooks ?? {})) {
        if (hook === undefined) continue;
        if (name in hooks) throw new CrmError('VALIDATION', `createCrm: two features fill the ${name} hook`, { issues: [{ path: ['features'], code: 'invalid_value', message: `feature "${key}" fills the ${name} hook another feature fills` }] });
        (hooks as Record<string, unknown>)[name] = hook;
      }
    }
  } catch (error) {
    // No crm comes out of this call: release what it opened.
    stopWatching();
    if (options.closeStorage !== false) await storage.close().catch(() => undefined);
    throw error;
  }

  const close = async (): Promise<void> => {
    if (closed) return;
    for (const [, runtime] of [...runtimes].reverse()) await runtime.close?.();
    closed = true;
    stopWatching();
    bus.clear();
    if (options.closeStorage !== false) await storage.close();
  };
  const crm = coreServices(ctx, close);
  attachFeatures(crm, ctx, runtimes);
  return crm as Crm & FeatureApis<F>;
}
