import { type AggregateRow, type AggregateSpec } from '@crmkit/core';
import { aggregateCandidates, planQuery, type StoredViewGroup } from '@crmkit/core/storage';
import { request } from './idb-request.js';
import { keyRange, sourceOf, type ReadScope } from './read-scope.js';
import { VIEWS } from './store-layout.js';

/**
 * Computes an aggregate. A materialized aggregate that fits answers from its groups (`ViewChanges.answer`).
 * When the plan's ranges hold exactly the matching rows, every metric is a count and every group field
 * is fixed by the filter, the engine counts the ranges and no record is read. Otherwise core's
 * `aggregateCandidates` streams the plan's records.
 */
export async function runAggregate(scope: ReadScope, spec: AggregateSpec): Promise<AggregateRow[]> {
  const groups = scope.tx.objectStore(VIEWS);
  const fromView = await scope.views.answer(scope.store, scope.tenantId, spec, (range) => request(groups.getAll(keyRange(range))) as Promise<StoredViewGroup[]>);
  if (fromView) return fromView;
  const plan = planQuery(scope.store, scope.tenantId, spec.filter, [], undefined, undefined);
  const groupBy = spec.groupBy ?? [];
  const metrics = Object.keys(spec.metrics);
  if (plan.exact && !scope.staged?.size && Object.values(spec.metrics).every((m) => m.fn === 'count' && !m.where) && groupBy.every((f) => plan.fixed.has(f))) {
    const source = sourceOf(scope.tx, scope.store, plan);
    let count = 0;
    for (const range of plan.ranges) count += await request(source.count(keyRange(range)));
    return count === 0 && groupBy.length ? [] : [{ group: Object.fromEntries(groupBy.map((f) => [f, plan.fixed.get(f)!])), values: Object.fromEntries(metrics.map((alias) => [alias, count])) }];
  }
  return aggregateCandidates(scope, plan, spec);
}
