import { addToViewGroup, emptyViewGroup, planViewRead, sameViewContribution, viewGroupKey, type AggregateRow, type AggregateSpec, type Row } from '@crmkit/core';
import { request } from './idb-request.js';
import { encodeValue } from './key-encoding.js';
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
export async function updateViews(scope: ReadScope, moved: readonly (readonly [Row | undefined, Row | undefined])[]): Promise<void> {
  const os = scope.tx.objectStore(VIEWS);
  for (const { key, view } of scope.store.views) {
    const steps: [string, Row, 1 | -1][] = [];
    const load = new Map<string, ViewRecord>();
    const touch = (row: Row, sign: 1 | -1) => {
      const values = viewGroupKey(view, row);
      const k = viewRecordKey(key, scope.tenantId, values);
      const id = JSON.stringify(k);
      if (!scope.views.has(id)) load.set(id, { ...emptyViewGroup(view, values), k });
      steps.push([id, row, sign]);
    };
    for (const [before, after] of moved) {
      if (before && after && sameViewContribution(view, before, after)) continue;
      if (before) touch(before, -1);
      if (after) touch(after, 1);
    }
    await Promise.all([...load].map(async ([id, empty]) => scope.views.set(id, ((await request(os.get(empty.k))) as ViewRecord | undefined) ?? empty)));
    for (const [id, row, sign] of steps) addToViewGroup(view, scope.views.get(id)!, row, sign);
  }
}

/**
 * Answers an aggregate from a materialized aggregate when one fits (`planViewRead`): reads the groups
 * of the tenant (only those of the leading values the filter fixes), with the transaction's own changes
 * over them. `undefined` when none fits or a group is inexact: the caller computes from rows.
 */
export async function viewAggregate(scope: ReadScope, spec: AggregateSpec): Promise<AggregateRow[] | undefined> {
  const { tenantId, store, api } = scope;
  const read = planViewRead(store.views.map((v) => v.view), spec);
  if (!read) return undefined;
  const key = store.views.find((v) => v.view === read.view)!.key;
  const prefix = [key, tenantId];
  const leading = read.leading && [...new Map(read.leading.map((v) => [typeof v + String(encodeValue(v)), encodeValue(v)])).values()];
  const ranges = leading ? leading.map((v) => api.range.bound([...prefix, v], [...prefix, v, []])) : [api.range.bound(prefix, [...prefix, []])];
  const os = scope.tx.objectStore(VIEWS);
  const groups = new Map<string, ViewRecord>();
  for (const range of ranges) for (const group of (await request(os.getAll(range))) as ViewRecord[]) groups.set(JSON.stringify(group.k), group);
  for (const [id, group] of scope.views) if ((group.k as unknown[])[0] === key && (group.k as unknown[])[1] === tenantId) groups.set(id, group);
  return read.answer([...groups.values()].filter((g) => g.count > 0));
}
