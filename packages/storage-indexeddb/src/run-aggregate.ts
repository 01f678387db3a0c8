import { matchFilter, type AggregateRow, type AggregateSpec } from '@crmkit/core';
import { createAccumulator } from './aggregate-accumulator.js';
import { planQuery } from './query-planner.js';
import { growing, scanPlan, sourceOf, type ReadScope } from './read-scope.js';

/**
 * Computes an aggregate. When the plan's ranges hold exactly the matching rows, every metric is a
 * count and every group field is fixed by the filter, the engine counts the ranges (`count`) and no
 * row is read. Otherwise the candidate rows stream through an accumulator in batches; only groups are
 * held in memory.
 */
export async function runAggregate(scope: ReadScope, spec: AggregateSpec): Promise<AggregateRow[]> {
  const plan = planQuery(scope.store, scope.tenantId, spec.filter, [], undefined, undefined, scope.api);
  const groupBy = spec.groupBy ?? [];
  const metrics = Object.entries(spec.metrics);
  const staged = scope.staged;
  if (plan.exact && !staged?.size && metrics.every(([, m]) => m.fn === 'count') && groupBy.every((f) => plan.fixed.has(f))) {
    const source = sourceOf(scope, plan);
    let count = 0;
    for (const range of plan.ranges) count += await source.count(range);
    if (count === 0 && groupBy.length) return [];
    return [{ group: Object.fromEntries(groupBy.map((f) => [f, plan.fixed.get(f)!])), values: Object.fromEntries(metrics.map(([alias]) => [alias, count])) }];
  }
  const accumulator = createAccumulator(spec);
  const seen = plan.dedupe ? new Set<string>() : undefined;
  await scanPlan(scope, plan, growing(1000), (record) => {
    const row = record.r;
    if (seen) {
      if (seen.has(row.id)) return;
      seen.add(row.id);
    }
    if (!staged?.has(row.id) && matchFilter(row, spec.filter)) accumulator.add(row);
  });
  if (staged) for (const row of staged.values()) if (row && matchFilter(row, spec.filter)) accumulator.add(row);
  return accumulator.result();
}
