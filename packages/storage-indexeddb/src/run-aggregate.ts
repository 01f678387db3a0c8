import { executeAggregate, filterFields, getPath, matchFilter, type AggregateRow, type AggregateSpec, type Row } from '@crmkit/core';
import { request } from './idb-request.js';
import { planQuery } from './query-planner.js';
import { growing, scanPlan, sourceOf, type ReadScope } from './read-scope.js';
import { fromStored, type StoredRecord } from './store-layout.js';
import { viewAggregate } from './view-groups.js';

/** A copy of `row` with only `fields` (dotted paths): what an aggregate needs to keep of a row. */
function project(row: Row, fields: readonly string[]): Row {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = getPath(row, field);
    if (value === undefined) continue;
    const path = field.split('.');
    let target = out;
    for (const segment of path.slice(0, -1)) target = (target[segment] ??= {}) as Record<string, unknown>;
    target[path[path.length - 1]!] = value;
  }
  return out as unknown as Row;
}

/**
 * Computes an aggregate. A materialized aggregate that fits answers from its groups (`viewAggregate`).
 * When the plan's ranges hold exactly the matching rows, every metric is a count and every group field
 * is fixed by the filter, the engine counts the ranges and no record is read. Otherwise matching rows
 * stream past in batches and only a projection of each — the fields the aggregate uses — is kept for
 * core's `executeAggregate`, so the meaning is the reference's and memory stays a few values per match.
 */
export async function runAggregate(scope: ReadScope, spec: AggregateSpec): Promise<AggregateRow[]> {
  const fromView = await viewAggregate(scope, spec);
  if (fromView) return fromView;
  const plan = planQuery(scope.store, scope.tenantId, spec.filter, [], undefined, undefined, scope.api);
  const groupBy = spec.groupBy ?? [];
  const metrics = Object.entries(spec.metrics);
  const staged = scope.staged;
  if (plan.exact && !staged?.size && metrics.every(([, m]) => m.fn === 'count' && !m.where) && groupBy.every((f) => plan.fixed.has(f))) {
    const source = sourceOf(scope, plan);
    let count = 0;
    for (const range of plan.ranges) count += await request(source.count(range));
    return count === 0 && groupBy.length ? [] : [{ group: Object.fromEntries(groupBy.map((f) => [f, plan.fixed.get(f)!])), values: Object.fromEntries(metrics.map(([alias]) => [alias, count])) }];
  }
  const fields = [...groupBy, ...metrics.flatMap(([, m]) => [...(m.fn === 'count' ? [] : [m.field]), ...filterFields(m.where)])];
  const projections: Row[] = [];
  const seen = plan.dedupe ? new Set<string>() : undefined;
  const add = (row: Row) => {
    if (!seen?.has(row.id) && matchFilter(row, spec.filter)) projections.push(project(row, fields));
    seen?.add(row.id);
  };
  await scanPlan(scope, plan, growing(1000), (record) => {
    // Multi-entry indexes span tenants; the transaction's own writes replace what is stored.
    if (record.tenantId === scope.tenantId && !staged?.has(record.id)) add(fromStored(record));
  }, true);
  if (staged) for (const row of staged.values()) if (row) add(row);
  return executeAggregate(projections, { groupBy, metrics: spec.metrics });
}
