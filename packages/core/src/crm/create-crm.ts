import * as z from 'zod/mini';
import { CrmError, validationError, type ValidationIssue } from '../errors/crm-error.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { createIdGenerator } from '../domain/ids.js';
import { createCryptoRandom, createSeededRandom, type Random } from '../domain/random.js';
import { EventBus } from './event-bus.js';
import { currencySchema, tenantIdSchema, userIdSchema } from '../schema/primitives.js';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import type { StorageAdapter } from '../storage/storage-adapter.js';
import { CompanyService } from '../companies/company-service.js';
import { ContactService } from '../contacts/contact-service.js';
import { ConfigRevision, type Actor, type CrmContext } from './context.js';
import type { PhoneNumberParser } from '../domain/phone-numbers.js';
import type { Crm } from './crm.js';
import type { CrmFeature, FeatureApis, FeatureRuntime } from './feature.js';
import type { FeatureHooks } from './feature-hooks.js';
import { DealService } from '../deals/deal-service.js';
import { LeadService } from '../leads/lead-service.js';
import { consoleLogger, type Logger } from './logger.js';
import { parseInput, readCallerInput } from './parse-input.js';
import { PipelineService } from '../pipelines/pipeline-service.js';
import { FunnelService } from '../funnel/funnel-service.js';
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
   * Opt-in features, each from its own entry point: `tasks()` (`@crmkit/core/tasks`: tasks, agenda,
   * business calendar), `activities()`, `assignment()`, `customFields()`, `duplicates()`, `imports()`, `reports()`, `scoring()`,
   * `scheduler()` (needs `tasks()`; also recurring tasks), `observers()` (needed by
   * `@crmkit/react-hooks`), `timeline()` (`crm.timeline`, `crm.eventLog`). Each adds `crm[feature.key]`; see each entry point.
   */
  readonly features?: F;
  /**
   * Reads phone numbers into their E.164 identity. The built-in parser only reads international
   * spellings (`+33 6 …`, `0033 6 …`); `phoneNumbers` from `@crmkit/core/phone` (libphonenumber-js)
   * also reads national ones (`06 …`) with the tenant's default region (`crm.identity.set`). Used by
   * the `duplicates()` feature, which computes identity keys.
   */
  readonly phoneNumbers?: PhoneNumberParser;
}

// Strict like every other schema (it is given these three keys only): core then needs no z.object.
const optionsSchema = z.strictObject({
  tenantId: tenantIdSchema,
  actor: z.optional(z.strictObject({ userId: userIdSchema })),
  defaultCurrency: z.optional(currencySchema),
});

const nameList = z.array(z.string().check(z.regex(/^[A-Za-z0-9._@:+-]{1,128}$/, 'must be 1-128 letters, digits or ._@:+-'))).check(z.maxLength(100));
/** A principal of `crm.as`: a user id, optionally the roles and teams the host resolved for it. */
const principalSchema = z.strictObject({ userId: userIdSchema, roles: z.optional(nameList), teamIds: z.optional(nameList) });

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

/** The core services of a context (a crm, or a view of it). */
function coreServices(ctx: CrmContext, close: () => Promise<void>, as: (principal: Principal) => Crm): Crm {
  return {
    tenantId: ctx.tenantId,
    leads: new LeadService(ctx),
    contacts: new ContactService(ctx),
    companies: new CompanyService(ctx),
    deals: new DealService(ctx),
    pipelines: new PipelineService(ctx),
    funnel: new FunnelService(ctx),
    on: (name, handler) => ctx.bus.on(name, handler),
    as,
    close,
  };
}

type Builder = (ctx: CrmContext, crm: Crm) => unknown;

/**
 * Adds each feature's API (and its `also` properties) as lazy properties: built on first read, once
 * per crm or view, with the context of that crm or view; `wrap` lets a view project the results.
 * The API is built over the object it is read through: a proxy of the crm (the sync client's
 * `client.crm`) gets an API whose calls go through the proxy (its board moves become commands).
 */
function attachFeatures(
  crm: Crm,
  ctx: CrmContext,
  runtimes: readonly (readonly [string, FeatureRuntime<unknown>])[],
  wrap: (path: string, api: unknown) => unknown = (_, api) => api,
): void {
  for (const [key, runtime] of runtimes) {
    for (const [name, build] of [[key, runtime.api as Builder], ...Object.entries((runtime.also ?? {}) as Record<string, Builder>)] as const) {
      const apis = new WeakMap<object, unknown>();
      Object.defineProperty(crm, name, {
        enumerable: true,
        get(this: Crm) {
          if (!apis.has(this)) apis.set(this, wrap(name, build(ctx, this)));
          return apis.get(this);
        },
      });
    }
  }
}

const CORE_KEYS = new Set(['tenantId', 'leads', 'contacts', 'companies', 'deals', 'pipelines', 'funnel', 'on', 'close', 'as']);

/** The core services a view wraps so their results are field-projected (features are wrapped as they are built). */
const SERVICE_KEYS = ['leads', 'contacts', 'companies', 'deals', 'pipelines', 'funnel'] as const;

/**
 * A view of a crm acting for `principal`: the same storage, caches, event bus and features, with
 * the principal as acting user and (with the access feature) its record and field rules applied.
 * Nothing is read or validated against storage here: views are cheap, one per request.
 */
function createView(
  root: CrmContext,
  principal: Principal | undefined,
  runtimes: readonly (readonly [string, FeatureRuntime<unknown>])[],
): Crm {
  const state: { guard: AccessGuard | undefined } = { guard: undefined };
  // No principal: the crm itself over other storage/bus/cause (trusted, its own actor).
  const ctx: CrmContext = principal ? { ...root, actor: { userId: principal.userId }, principal, view: state } : root;
  const access = principal && root.hooks.access;
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

function invalidFeature(index: number | undefined, problem: string): CrmError<'VALIDATION'> {
  return new CrmError('VALIDATION', `createCrm: invalid feature: ${problem}`, { issues: [{ path: index === undefined ? ['features'] : ['features', index], code: 'invalid_value', message: problem }] });
}

/** Refuses malformed features, a key given twice or taken by core, and a feature whose dependency is missing. */
function checkFeatures(features: readonly CrmFeature[]): void {
  const keys = features.map((feature) => (feature as { key?: unknown } | null)?.key);
  features.forEach((feature, i) => {
    const key = keys[i];
    if (typeof key !== 'string' || typeof feature.setup !== 'function') throw invalidFeature(i, 'must be a feature such as reports() from @crmkit/core/reports');
    if (CORE_KEYS.has(key)) throw invalidFeature(i, `"${key}" is a core property of the crm`);
    if (keys.indexOf(key) !== i) throw invalidFeature(i, `feature "${key}" is given twice`);
    for (const needed of feature.requires ?? []) {
      if (!keys.includes(needed)) throw invalidFeature(i, `feature "${key}" needs feature "${needed}": add ${needed}() to the features`);
    }
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
export async function createCrm<const F extends readonly CrmFeature[] = []>(input: CreateCrmOptions<F>): Promise<Crm & FeatureApis<F>> {
  // Options hold objects with methods, so they are copied one level (each read once) and checked; a throwing getter is VALIDATION.
  const options = readCallerInput('createCrm', () => {
    checkOptions(input);
    return { ...input };
  });
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
  const hooks: { -readonly [K in keyof FeatureHooks]: FeatureHooks[K] } = {};
  let closed = false;
  const runtimes: (readonly [string, FeatureRuntime<unknown>])[] = [];

  await storage.open(CRM_STORAGE_SCHEMA);

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
    revision: new ConfigRevision(parsed.tenantId),
    ...(options.phoneNumbers ? { phoneParser: options.phoneNumbers } : {}),
    hooks,
    assertOpen() {
      if (closed) throw new CrmError('CLOSED', 'This crm instance is closed', { what: 'crm' });
    },
    scope: (over, principal) => createView({ ...ctx, ...over }, principal, runtimes),
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    for (const [, runtime] of [...runtimes].reverse()) await runtime.close?.();
    closed = true;
    bus.clear();
    if (options.closeStorage !== false) await storage.close();
  };
  try {
    const taken = new Set(CORE_KEYS);
    for (const feature of features) {
      const runtime = feature.setup(ctx);
      runtimes.push([feature.key, runtime]);
      for (const name of [feature.key, ...Object.keys(runtime.also ?? {})]) {
        if (taken.has(name)) throw invalidFeature(undefined, `feature "${feature.key}" adds crm.${name}, which another feature or core has`);
        taken.add(name);
      }
      for (const [name, hook] of Object.entries(runtime.hooks ?? {})) {
        if (hook === undefined) continue;
        if (name in hooks) throw invalidFeature(undefined, `feature "${feature.key}" fills the ${name} hook another feature fills`);
        (hooks as Record<string, unknown>)[name] = hook;
      }
    }
    for (const [, runtime] of runtimes) await runtime.start?.();
  } catch (error) {
    // No crm comes out of this call: release what it opened (the features set up so far too).
    await close().catch(() => undefined);
    throw error;
  }

  const as = (principal: Principal): Crm => {
    ctx.assertOpen();
    return createView(ctx, parseInput(principalSchema, principal, 'crm.as'), runtimes);
  };
  const crm = coreServices(ctx, close, as);
  attachFeatures(crm, ctx, runtimes);
  return crm as Crm & FeatureApis<F>;
}
