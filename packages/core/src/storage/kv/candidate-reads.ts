import { compareRowToPosition, compareRows } from '../../query/compare.js';
import { decodeCursor } from '../../query/cursor.js';
import { executeAggregate, paginate } from '../../query/execute.js';
import { createMatcher } from '../../query/match.js';
import { getPath } from '../../query/path.js';
import { filterFields, type AggregateRow, type AggregateSpec, type QuerySpec } from '../../query/query-spec.js';
import type { Row } from '../storage-adapter.js';
import { fromStored, type StoredRecord, type StoreLayout } from './index-layout.js';
import { planQuery, type Plan } from './index-planner.js';
import type { Key } from './key-encoding.js';

/**
 * Streams the records of `plan`'s ranges in key order to `visit`, until it returns `false`. `batch`
 * sizes batched reads (given the previous size, 0 first); `prefetch` says the walk never stops early,
 * so the next batch may be requested before the current one is visited. The engine's part of a read.
 */
export type PlanScan = (plan: Plan, batch: (previous: number) => number, visit: (record: StoredRecord) => boolean | void, prefetch?: boolean) => Promise<void>;

/** What a read sees: the store, the tenant, the transaction's staged rows (`null`: deleted) and the engine's scan. */
export interface CandidateSource {
  readonly store: StoreLayout;
  readonly tenantId: string;
  readonly staged: ReadonlyMap<string, Row | null> | undefined;
  readonly scan: PlanScan;
}

/** Batches that start at `first` records and grow fourfold. */
export const growing = (first: number) => (previous: number) => (previous ? previous * 4 : first);

const sameGroup = (a: readonly Key[], b: readonly Key[]) => a.every((v, i) => v === b[i] || (Array.isArray(v) && Array.isArray(b[i])));

/**
 * Answers a query from the key ranges of a plan: reads candidates, keeps those the filter accepts
 * (and that lie after the cursor), merges the transaction's staged rows, sorts with `compareRows` and
 * cuts the page with `paginate` — so the result always agrees with `executeQuery`.
 *
 * Memory and reads stay proportional to the page: an ordered walk stops once `limit + 1` rows
 * matched and the sort group of the `limit`-th is complete; an unordered read keeps only the best
 * `limit + 1` rows while it streams.
 *
 * @param source The store, tenant, staged rows and the engine's scan.
 * @param spec A validated query.
 * @returns The page and, when more rows match, the cursor after it.
 */
export async function queryCandidates(source: CandidateSource, spec: QuerySpec): Promise<{ rows: Row[]; nextCursor?: string }> {
  const { staged, tenantId } = source;
  const sort = spec.sort ?? [];
  const position = spec.after === undefined ? undefined : decodeCursor(spec.after, sort);
  const plan = planQuery(source.store, tenantId, spec.filter, sort, spec.limit, position);
  const matches = createMatcher(spec.filter);
  const accept = (row: Row) => matches(row) && (!position || compareRowToPosition(row, sort, position) > 0);
  const order = compareRows(sort);
  const want = spec.limit === undefined ? Infinity : spec.limit + 1;
  const seen = plan.dedupe ? new Set<string>() : undefined;
  const rows: Row[] = [];
  let boundary: Key[] | undefined;

  // An ordered walk reads what the page still needs (plus the cursor's own row, read again); when the
  // ranges are exact every record matches, so that is enough, otherwise batches grow fourfold.
  const need = (previous: number) =>
    !plan.ordered || want === Infinity ? growing(250)(previous) : Math.max(want - rows.length + (position ? 1 : 0), previous && !plan.exact ? previous * 4 : 1);
  await source.scan(plan, need, (record) => {
    // The record's sort group (its stored keys: before fromStored), only where the page ends: an array
    // per record would be garbage on every read.
    const group = plan.ordered && rows.length + 1 >= (spec.limit ?? Infinity) ? plan.group(record) : undefined;
    if (boundary && rows.length >= want && !sameGroup(group!, boundary)) return false;
    if (record.tenantId !== tenantId) return; // multi-entry indexes span tenants
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
 * Computes an aggregate over the candidates of a plan: matching rows stream past in batches and only a
 * projection of each — the fields the aggregate uses — is kept for `executeAggregate`, so the meaning is
 * the reference's and memory stays a few values per match. The transaction's staged rows replace stored ones.
 *
 * @param source The store, tenant, staged rows and the engine's scan.
 * @param plan The plan of `spec.filter` (`planQuery` without sort).
 * @param spec A validated aggregate spec.
 * @returns The groups, as `executeAggregate` returns them.
 */
export async function aggregateCandidates(source: CandidateSource, plan: Plan, spec: AggregateSpec): Promise<AggregateRow[]> {
  const { staged, tenantId } = source;
  const fields = [...(spec.groupBy ?? []), ...Object.values(spec.metrics).flatMap((m) => [...(m.fn === 'count' ? [] : [m.field]), ...filterFields(m.where)])];
  const projections: Row[] = [];
  const seen = plan.dedupe ? new Set<string>() : undefined;
  const matches = createMatcher(spec.filter);
  const add = (row: Row) => {
    if (!seen?.has(row.id) && matches(row)) projections.push(project(row, fields));
    seen?.add(row.id);
  };
  await source.scan(
    plan,
    growing(1000),
    (record) => {
      // Multi-entry indexes span tenants; the transaction's own writes replace what is stored.
      if (record.tenantId === tenantId && !staged?.has(record.id)) add(fromStored(record));
    },
    true,
  );
  if (staged) for (const row of staged.values()) if (row) add(row);
  return executeAggregate(projections, { groupBy: spec.groupBy ?? [], metrics: spec.metrics });
}
