import { buildStoreLayouts, type StorageSchema, type StoreLayout } from '@crmkit/core/storage';

/**
 * Bumped whenever the way rows are stored or indexed changes; part of the database version so
 * that a new adapter release migrates databases written by an older one.
 */
export const LAYOUT_VERSION = 3;

/** The store of `nextSequence` counters, `{ tenantId, name, value }` keyed by `[tenantId, name]` (layout 3). */
export const SEQUENCE_STORE = 'crmkit_sequences';

/** A counter as stored. */
export interface SequenceRecord {
  readonly tenantId: string;
  readonly name: string;
  readonly value: number;
}

/**
 * The object store of materialized aggregates (`EntitySchema.aggregates`): one record per view, tenant
 * and group, keyed `[view key, tenantId, first group value (encoded), group id]`, plus the record `'def'`
 * holding the definitions the stored groups were built with.
 */
export const VIEWS = '$views';

export interface DatabaseLayout {
  readonly version: number;
  readonly stores: ReadonlyMap<string, StoreLayout>;
  /** Every object store a transaction spans: the entities, then `VIEWS`. */
  readonly storeNames: readonly string[];
}

/** The database layout of a schema: core's store layouts, the views store, and the database version. */
export function buildLayout(schema: StorageSchema): DatabaseLayout {
  const stores = buildStoreLayouts(schema, 'indexeddb');
  // Layout changes bump the database version within a schema version (≤ 99 layouts per schema version);
  // the last three digits count the runtime indexes added since (`ensureIndexes`, ≤ 999).
  return { version: (schema.version * 100 + LAYOUT_VERSION) * 1000, stores, storeNames: [...stores.keys(), VIEWS] };
}
