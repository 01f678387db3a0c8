import type { CrmContext } from './context.js';
import type { Crm } from './crm.js';
import type { FeatureHooks } from './feature-hooks.js';

/**
 * An opt-in part of a crm — tasks, activities, assignment, custom fields, reports, scoring, the
 * scheduler, observers — passed to `createCrm({ features: [...] })`. It adds `crm[key]` (and the
 * properties of `also`) and may fill extension points of core operations. A host pays (in bundle
 * size and start-up work) only for the features it passes.
 *
 * Writing one: `setup` runs once per crm instance; `api` builds the feature's API for a crm or a
 * view of it (the same instance seen by another principal), so it must be cheap and read no storage.
 *
 * @example
 * import { createCrm, createMemoryStorage } from '@crmkit/core';
 * import { reports } from '@crmkit/core/reports';
 * const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 'acme', features: [reports()] });
 * await crm.reports.forecast({ pipelineId, by: 'month' });
 */
export interface CrmFeature<K extends string = string, A = unknown, X extends object = object> {
  /** The property the API appears under (`reports` → `crm.reports`). Unique among a crm's features. */
  readonly key: K;
  /**
   * Keys of the features this one needs (`scheduler()` needs `tasks()`). `createCrm` refuses a
   * feature list that lacks one with `VALIDATION`.
   */
  readonly requires?: readonly string[];
  /**
   * Prepares the feature for one crm instance, after the storage opened and before `createCrm`
   * resolves.
   *
   * @param ctx The instance's context (storage, tenant, clock, logger, event bus, configuration revision).
   * @returns How the feature takes part: its API, its hooks, its share of `close()`.
   */
  setup(ctx: CrmContext): FeatureRuntime<A, X>;
}

/** What a feature contributes to one crm instance. */
export interface FeatureRuntime<A, X extends object = object> {
  /**
   * Builds the feature's API for a context: called on the first read of `crm[key]`, once per crm
   * or view. Must not read storage (views are cheap).
   *
   * @param ctx The context of the crm or view (its principal, when views exist).
   * @param crm The core services of that crm or view, as read: a proxy of the crm (the sync client's
   *   `client.crm`) gets its own API, built over the proxy, so the API's calls go through it.
   */
  api(ctx: CrmContext, crm: Crm): A;
  /** Further properties the feature adds to the crm, built lazily like `api` (`tasks()` adds `crm.calendar`). */
  readonly also?: { readonly [P in keyof X]: (ctx: CrmContext, crm: Crm) => X[P] };
  /** Extension points of core operations this feature fills. */
  readonly hooks?: FeatureHooks;
  /**
   * Work the feature does once when the crm opens, after every feature is set up (e.g. making sure the
   * indexes of indexed custom fields exist). `createCrm` awaits it; a rejection fails `createCrm`.
   */
  start?(): Promise<void>;
  /** Stops the feature's work. `crm.close()` awaits it (features in reverse order) before closing the storage. */
  close?(): Promise<void>;
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The API properties a list of features adds to a crm: `{ reports: ReportService } & { scheduler: Scheduler }`. */
export type FeatureApis<F extends readonly CrmFeature[]> = UnionToIntersection<
  { [I in keyof F]: F[I] extends CrmFeature<infer K, infer A, infer X> ? { readonly [P in K]: A } & ([keyof X] extends [never] ? unknown : { readonly [P in keyof X]: X[P] }) : never }[number]
>;

/** A crm with the APIs of the given features, e.g. `CrmWith<[ReturnType<typeof reports>]>`. */
export type CrmWith<F extends readonly CrmFeature[]> = Crm & FeatureApis<F>;
