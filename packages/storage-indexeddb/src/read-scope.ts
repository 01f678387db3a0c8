import type { Row } from '@crmkit/core';
import type { IDBPTransaction } from 'idb';
import type { KeyApi } from './query-planner.js';
import type { StoredRecord, StoreLayout } from './store-layout.js';
import type { Plan } from './query-planner.js';

/** An open IndexedDB transaction over every store of the layout. */
export type AnyTransaction = IDBPTransaction<unknown, string[], IDBTransactionMode>;

/** What a read inside a transaction needs: the engine transaction, the store and the tenant. */
export interface ReadScope {
  readonly tx: AnyTransaction;
  readonly api: KeyApi;
  readonly store: StoreLayout;
  readonly tenantId: string;
  /**
   * Rows this transaction wrote and has not applied yet (`null`: deleted), by id. They replace
   * whatever IndexedDB holds for the same id.
   */
  readonly staged: ReadonlyMap<string, Row | null> | undefined;
}

/** Batches that start at `first` records and grow fourfold. */
export const growing = (first: number) => (previous: number) => (previous ? previous * 4 : first);

/** The object store or index a plan reads. */
export function sourceOf(scope: ReadScope, plan: Plan) {
  const store = scope.tx.objectStore(scope.store.entity);
  return plan.source.name === undefined ? store : store.index(plan.source.name);
}

/**
 * Streams the records of a plan's ranges to `visit` in key order, until it returns `false`.
 * Ascending reads use `getAll` in batches (sized by `batchSize`, given the previous size, at most 2000)
 * and resume after the last key, so memory stays bounded and a page reads little more than it returns; descending
 * reads use a cursor.
 */
export async function scanPlan(
  scope: ReadScope,
  plan: Plan,
  batchSize: (previous: number) => number,
  visit: (record: StoredRecord) => boolean | void,
): Promise<void> {
  const source = sourceOf(scope, plan);
  for (let n = 0; n < plan.ranges.length; n++) {
    let range = plan.ranges[n]!;
    if (plan.direction === 'prev') {
      for (let cursor = await source.openCursor(range, 'prev'); cursor; cursor = await cursor.continue()) {
        if (visit(cursor.value as StoredRecord) === false) return;
      }
      continue;
    }
    for (let count = 0; ; ) {
      count = Math.max(1, Math.min(batchSize(count), 2000));
      const batch = (await source.getAll(range, count)) as StoredRecord[];
      for (const record of batch) if (visit(record) === false) return;
      if (batch.length < count) break;
      range = scope.api.range.bound(plan.keyOf(batch[count - 1]!, n), range.upper, true, range.upperOpen);
    }
  }
}
