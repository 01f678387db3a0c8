import type { QuerySpec } from '@crmkit/core';
import { compareRowToPosition, compareRows, createMatcher, decodeCursor, paginate, type Row } from '@crmkit/core/storage';
import { planQuery } from './query-planner.js';
import { growing, scanPlan, type ReadScope } from './read-scope.js';
import { fromStored } from './store-layout.js';

const sameGroup = (a: readonly IDBValidKey[], b: readonly IDBValidKey[]) =>
  a.every((v, i) => v === b[i] || (Array.isArray(v) && Array.isArray(b[i])));

/**
 * Answers a query from a plan: reads candidates in key ranges, keeps those `matchFilter` accepts
 * (and that lie after the cursor), merges the transaction's staged rows, sorts with `compareRows`
 * and cuts the page with `paginate` — so the result always agrees with `executeQuery`.
 *
 * Memory and reads stay proportional to the page: an ordered walk stops once `limit + 1` rows
 * matched and the sort group of the `limit`-th is complete; an unordered read keeps only the best
 * `limit + 1` rows while it streams.
 */
export async function runQuery(scope: ReadScope, spec: QuerySpec): Promise<{ rows: Row[]; nextCursor?: string }> {
  const sort = spec.sort ?? [];
  const position = spec.after === undefined ? undefined : decodeCursor(spec.after, sort);
  const plan = planQuery(scope.store, scope.tenantId, spec.filter, sort, spec.limit, position, scope.api);
  const matches = createMatcher(spec.filter);
  const accept = (row: Row) => matches(row) && (!position || compareRowToPosition(row, sort, position) > 0);
  const order = compareRows(sort);
  const want = spec.limit === undefined ? Infinity : spec.limit + 1;
  const staged = scope.staged;
  const seen = plan.dedupe ? new Set<string>() : undefined;
  const rows: Row[] = [];
  let boundary: IDBValidKey[] | undefined;

  // An ordered walk reads what the page still needs (plus the cursor's own row, read again); when the
  // ranges are exact every record matches, so that is enough, otherwise batches grow fourfold.
  const need = (previous: number) =>
    !plan.ordered || want === Infinity ? growing(250)(previous) : Math.max(want - rows.length + (position ? 1 : 0), previous && !plan.exact ? previous * 4 : 1);
  await scanPlan(scope, plan, need, (record) => {
    const group = plan.ordered ? plan.group(record) : undefined;
    if (boundary && rows.length >= want && !sameGroup(group!, boundary)) return false;
    if (record.tenantId !== scope.tenantId) return; // multi-entry indexes span tenants
    const row = fromStored(record);
    if (seen) {
      if (seen.has(row.id)) return;
      seen.add(row.id);
    }
    if (staged?.has(row.id) || !accept(row)) return;
    rows.push(row);
    if (plan.ordered) {
      if (rows.length === spec.limit) boundary = group;
      // The (limit + 1)-th match of a later group proves the boundary group complete: stop now.
      else if (boundary && rows.length >= want && !sameGroup(group!, boundary)) return false;
    } else if (rows.length >= 2 * want + 64) {
      rows.sort(order);
      rows.length = want;
    }
  });
  if (staged) for (const row of staged.values()) if (row && accept(row)) rows.push(row);
  rows.sort(order);
  if (rows.length > want) rows.length = want;
  return paginate(rows, spec);
}
