import * as z from 'zod/mini';
import { CrmError } from '../errors/crm-error.js';
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
import { TaskService } from '../tasks/task-service.js';
import { EventLogService, readTimeline } from '../timeline/timeline-service.js';
import type { AccessGuard, Principal } from './access-guard.js';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import type { CrmEventHandler } from './event-bus.js';

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
}

const optionsSchema = z.object({
  tenantId: tenantIdSchema,
  actor: z.optional(z.object({ userId: userIdSchema })),
  defaultCurrency: z.optional(currencySchema),
});

const nameList = z.array(z.string().check(z.regex(/^[A-Za-z0-9._@:+-]{1,128}$/, 'must be 1-128 letters, digits or ._@:+-'))).check(z.maxLength(100));
/** A principal of `crm.as`: a user id, optionally the roles and teams the host resolved for it. */
const principalSchema = z.strictObject({ userId: userIdSchema, roles: z.optional(nameList), teamIds: z.optional(nameList) });

/** The core services of a context (a crm, or a view of it). */
function coreServices(ctx: CrmContext, close: () => Promise<void>, as: (principal: Principal) => Crm): Crm {
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
    tasks: new TaskService(ctx),
    timeline: (ref, timelineOptions) => readTimeline(ctx, ref, timelineOptions),
    on: (name, handler) => ctx.bus.on(name, handler),
    as,
    close,
  };
}

/** Adds each feature's API as a lazy property: built on first read, once per crm or view. */
function attachFeatures(
  crm: Crm,
  ctx: CrmContext,
  runtimes: readonly (readonly [string, FeatureRuntime<unknown>])[],
  wrap: (path: string, api: unknown) => unknown = (_, api) => api,
): void {
  for (const [key, runtime] of runtimes) {
    let api: unknown;
    let built = false;
    Object.defineProperty(crm, key, {
      enumerable: true,
      get: () => {
        if (!built) {
          api = wrap(key, runtime.api(ctx, crm));
          built = true;
        }
        return api;
      },
    });
  }
}

const SERVICE_KEYS = ['leads', 'contacts', 'companies', 'deals', 'pipelines', 'customFields', 'activities', 'eventLog', 'funnel', 'assignment', 'calendar', 'tasks'] as const;

/**
 * A view of a crm acting for `principal`: the same storage, caches, event bus and features, with
 * the principal as acting user and (with the access feature) its record and field rules applied.
 * Nothing is read or validated against storage here: views are cheap, one per request.
 */
function createView(
  root: CrmContext,
  principal: Principal,
  runtimes: readonly (readonly [string, FeatureRuntime<unknown>])[],
): Crm {
  const state: { guard: AccessGuard | undefined } = { guard: undefined };
  const ctx: CrmContext = { ...root, actor: { userId: principal.userId }, principal, view: state };
  const access = root.hooks.access;
  const forbidden = () => {
    throw new CrmError('FORBIDDEN', 'A view cannot make another view: call as() on the crm itself', { action: 'crm.as', reason: 'views act for one principal' });
  };
  const view = coreServices(ctx, async () => undefined, forbidden);
  let wrap = (_: string, api: unknown) => api;
  if (access) {
    const guardOf = async () => state.guard ?? (await root.storage.transaction('r', (tx) => access.guard(tx, principal)));
    wrap = (path, api) => (api && typeof api === 'object' ? access.wrap(path, api, guardOf) : api);
    const target = view as unknown as Record<string, unknown>;
    for (const key of SERVICE_KEYS) target[key] = wrap(key, target[key]);
    target.timeline = (wrap('crm', { timeline: view.timeline }) as { timeline: Crm['timeline'] }).timeline;
    view.on = <K extends CrmEventName | '*'>(name: K, handler: CrmEventHandler<K>) => {
      // Batches are filtered (and projected) in order, one after another, off the committing call.
      let chain: Promise<unknown> = Promise.resolve();
      return root.bus.onBatch((events, rows) => {
        const wanted = events.filter((e) => name === '*' || e.type === name);
        if (wanted.length === 0) return;
        chain = chain
          .then(() => access.visibleEvents(root.storage, principal, wanted, rows))
          .then((visible: CrmEvent[]) => {
            for (const event of visible) {
              try {
                (handler as (e: CrmEvent) => void)(event);
              } catch (error) {
                root.logger.error('crmkit: an event handler threw', { event: event.type, error });
              }
            }
          })
          .catch((error: unknown) => root.logger.error('crmkit: filtering events for a view failed', { error }));
      });
    };
  }
  attachFeatures(view, ctx, runtimes, wrap);
  return view;
}

function checkFeatures(features: readonly CrmFeature[]): void {
  const reserved = new Set(['tenantId', 'leads', 'contacts', 'companies', 'deals', 'pipelines', 'customFields', 'activities', 'eventLog', 'funnel', 'assignment', 'calendar', 'tasks', 'timeline', 'on', 'close', 'as']);
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
  const parsed = parseInput(optionsSchema, { tenantId: options?.tenantId, actor: options?.actor, defaultCurrency: options?.defaultCurrency }, 'createCrm');
  if (!options.storage || typeof options.storage.transaction !== 'function') {
    throw new CrmError('VALIDATION', 'createCrm needs a storage adapter', {
      issues: [{ path: ['storage'], code: 'required', message: 'pass a storage adapter such as createMemoryStorage()' }],
    });
  }
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
    revision,
    clock: options.clock ?? systemClock,
    random,
    newId: createIdGenerator(random),
    bus,
    logger,
    defaultCurrency: parsed.defaultCurrency ?? 'USD',
    customFields,
    settings,
    hooks,
    assertOpen() {
      if (closed) throw new CrmError('CLOSED', 'This crm instance is closed', { what: 'crm' });
    },
  };

  let runtimes: (readonly [string, FeatureRuntime<unknown>])[];
  try {
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
  const as = (principal: Principal): Crm => {
    ctx.assertOpen();
    return createView(ctx, parseInput(principalSchema, principal, 'crm.as'), runtimes);
  };
  const crm = coreServices(ctx, close, as);
  attachFeatures(crm, ctx, runtimes);
  return crm as Crm & FeatureApis<F>;
}
