import type { AggregateMetric, AggregateRow, AggregateSpec, Filter } from '@crmkit/core';
import { createMatcher, executeAggregate, getPath } from '@crmkit/core/storage';

/** Every field a filter tree mentions. */
function fieldsOf(filter: Filter | undefined, into: string[] = []): string[] {
  if (!filter) return into;
  if ('filters' in filter) for (const f of filter.filters) fieldsOf(f, into);
  else into.push(filter.field);
  return into;
}

/** The same filter over projection slots instead of field paths. */
function onSlots(filter: Filter, slot: (field: string) => string): Filter {
  return 'filters' in filter ? { op: filter.op, filters: filter.filters.map((f) => onSlots(f, slot)) } : { ...filter, field: slot(filter.field) };
}
import { request } from './idb-request.js';
import { planQuery } from './query-planner.js';
import { growing, scanPlan, sourceOf, type ReadScope } from './read-scope.js';
import { fromStored, type StoredRecord } from './store-layout.js';

/**
 * Computes an aggregate. When the plan's ranges hold exactly the matching rows, every metric is a
 * count and every group field is fixed by the filter, the engine counts the ranges and no record is
 * read. Otherwise matching rows stream past in batches and only a projection of each — the values of
 * the fields the aggregate uses, as an array addressed `'0'`, `'1'`, … — is kept for core's
 * `executeAggregate`, so the meaning is the reference's and memory stays a few values per match.
 */
export async function runAggregate(scope: ReadScope, spec: AggregateSpec): Promise<AggregateRow[]> {
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
  const fields = [...new Set([...groupBy, ...metrics.flatMap(([, m]) => [...(m.fn === 'count' ? [] : [m.field]), ...fieldsOf(m.where)])])];
  const slot = (field: string) => String(fields.indexOf(field));
  const projections: unknown[][] = [];
  const seen = plan.dedupe ? new Set<string>() : undefined;
  const matches = createMatcher(spec.filter);
  const add = (row: object) => {
    if (!seen?.has((row as StoredRecord).id) && matches(row)) projections.push(fields.map((f) => getPath(row, f)));
    seen?.add((row as StoredRecord).id);
  };
  await scanPlan(scope, plan, growing(1000), (record) => {
    // Multi-entry indexes span tenants; the transaction's own writes replace what is stored.
    if (record.tenantId === scope.tenantId && !staged?.has(record.id)) add(fromStored(record));
  }, true);
  if (staged) for (const row of staged.values()) if (row) add(row);
  const projected = executeAggregate(projections, {
    groupBy: groupBy.map(slot),
    metrics: Object.fromEntries(
      metrics.map(([alias, m]) => {
        const where = m.where ? { where: onSlots(m.where, slot) } : {};
        return [alias, (m.fn === 'count' ? { fn: 'count', ...where } : { fn: m.fn, field: slot(m.field), ...where }) as AggregateMetric];
      }),
    ),
  });
  return projected.map(({ group, values }) => ({ group: Object.fromEntries(groupBy.map((f) => [f, group[slot(f)]!])), values }));
}
