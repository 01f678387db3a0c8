import { type KeyRange, type Plan, type PlanScan, type Row, type StoredRecord, type StoreLayout, type ViewChanges } from '@crmkit/core/storage';
import { request, walk } from './idb-request.js';

/** What a read inside a transaction needs: the engine transaction, the store and the tenant. */
export interface ReadScope {
  readonly tx: IDBTransaction;
  readonly store: StoreLayout;
  readonly tenantId: string;
  /**
   * Rows this transaction wrote and has not applied yet (`null`: deleted), by id. They replace
   * whatever IndexedDB holds for the same id.
   */
  readonly staged: ReadonlyMap<string, Row | null> | undefined;
  /** Groups of materialized aggregates this transaction changed (every entity, every tenant). */
  readonly views: ViewChanges;
  /** Streams a plan's records (`scanPlan` over this scope). */
  readonly scan: PlanScan;
}

/** The IDBKeyRange of a key range. */
export const keyRange = (r: KeyRange) => IDBKeyRange.bound(r.lower, r.upper, r.lowerOpen, r.upperOpen);

/** The object store or index a plan reads. */
export function sourceOf(tx: IDBTransaction, store: StoreLayout, plan: Plan): IDBObjectStore | IDBIndex {
  const os = tx.objectStore(store.entity);
  return plan.source.name === undefined ? os : os.index(plan.source.name);
}

/**
 * Streams the records of a plan's ranges to `visit` in key order, until it returns `false`.
 * Ascending reads use `getAll` in batches (sized by `batchSize`, given the previous size, at most 2000)
 * and resume after the last key, so memory stays bounded and a page reads little more than it
 * returns; with `prefetch` (for reads that never stop early) the next batch is requested before the
 * current one is visited. Descending reads and multi-entry indexes (whose keys repeat, so a batch
 * cannot resume after one) use a cursor, visited inside its success events.
 */
export const scanPlan =
  (tx: IDBTransaction, store: StoreLayout): PlanScan =>
  async (plan, batchSize, visit, prefetch = false) => {
    const source = sourceOf(tx, store, plan);
    for (let n = 0; n < plan.ranges.length; n++) {
      let range = keyRange(plan.ranges[n]!);
      if (plan.direction === 'prev' || plan.source.multi) {
        let stopped = false;
        await walk(source.openCursor(range, plan.direction), (value) => !(stopped = visit(value as StoredRecord) === false));
        if (stopped) return;
        continue;
      }
      let count = Math.max(1, Math.min(batchSize(0), 2000));
      let pending = request(source.getAll(range, count));
      for (;;) {
        const batch = (await pending) as StoredRecord[];
        // The resume key first: visiting turns records back into rows.
        const full = batch.length === count;
        if (full) {
          range = IDBKeyRange.bound(plan.keyOf(batch[count - 1]!, n), range.upper, true, range.upperOpen);
          count = Math.max(1, Math.min(batchSize(count), 2000));
          // A full read asks for the next batch before working on this one, so IndexedDB reads meanwhile.
          if (prefetch) pending = request(source.getAll(range, count));
        }
        for (const record of batch) if (visit(record) === false) return;
        if (!full) break;
        if (!prefetch) pending = request(source.getAll(range, count));
      }
    }
  };
