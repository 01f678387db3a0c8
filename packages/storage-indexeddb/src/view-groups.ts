import { addToViewGroup, emptyViewGroup, encodeValue, planViewRead, viewMoves, type AggregateRow, type AggregateSpec, type RowMove } from '@crmkit/core';
import { request } from './idb-request.js';
import type { ReadScope } from './read-scope.js';
import { viewRecordKey, type ViewRecord } from './schema-upgrade.js';
import { VIEWS } from './store-layout.js';

/** The groups of materialized aggregates a transaction changed, by the JSON of their key: applied at commit. */
export type ViewCache = Map<string, ViewRecord>;

/**
 * Moves the writes of one `write` call into the materialized aggregates of the entity: each group a
 * row leaves or enters is read once per transaction (inside it: readwrite transactions over these stores
 * are serialised, across tabs too, so nobody changes it meanwhile), then updated in the cache. The cache
 * is written with the rows, in the same engine transaction, so totals and rows commit or roll back together.
 */
export async function updateViews(scope: ReadScope, moved: readonly RowMove[]): Promise<void> {
  const os = scope.tx.objectStore(VIEWS);
  for (const { key, view } of scope.store.views) {
    const moves = viewMoves(view, moved).map((move) => ({ ...move, k: viewRecordKey(key, scope.tenantId, move.key) }));
    await Promise.all(
      moves.map(async ({ key: values, k }) => {
        const id = JSON.stringify(k);
        if (scope.views.has(id)) return;
        // Changes count from an empty group; the stored totals are added when they arrive.
        const group: ViewRecord = { ...emptyViewGroup(view, values), k };
        scope.views.set(id, group);
        const stored = (await request(os.get(k))) as ViewRecord | undefined;
        if (!stored) return;
        group.count += stored.count;
        group.inexact += stored.inexact;
        group.sums = group.sums.map((sum, i) => sum + stored.sums[i]!);
      }),
    );
    for (const { row, sign, k } of moves) addToViewGroup(view, scope.views.get(JSON.stringify(k))!, row, sign);
  }
}

/**
 * Answers an aggregate from a materialized aggregate when one fits (`planViewRead`): reads the groups
 * of the tenant (only those of the leading values the filter fixes), with the transaction's own changes
 * over them. `undefined` when none fits or a group is inexact: the caller computes from rows.
 */
export async function viewAggregate(scope: ReadScope, spec: AggregateSpec): Promise<AggregateRow[] | undefined> {
  const { tenantId, store } = scope;
  const read = planViewRead(store.views.map((v) => v.view), spec);
  if (!read) return undefined;
  const key = store.views.find((v) => v.view === read.view)!.key;
  const prefix = [key, tenantId];
  const leading = read.leading && new Set(read.leading.map(encodeValue));
  const ranges = leading ? [...leading].map((v) => IDBKeyRange.bound([...prefix, v], [...prefix, v, []])) : [IDBKeyRange.bound(prefix, [...prefix, []])];
  const os = scope.tx.objectStore(VIEWS);
  const groups = new Map<string, ViewRecord>();
  for (const range of ranges) for (const group of (await request(os.getAll(range))) as ViewRecord[]) groups.set(JSON.stringify(group.k), group);
  for (const [id, group] of scope.views) if ((group.k as unknown[])[0] === key && (group.k as unknown[])[1] === tenantId) groups.set(id, group);
  return read.answer([...groups.values()].filter((g) => g.count > 0));
}
