import type { AggregateRow, AggregateSpec, QuerySpec, Scalar } from './query-spec.js';
import { compareRowToPosition, compareRows, compareValues } from './compare.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { createMatcher } from './match.js';
import { getPath } from './path.js';

/**
 * Answers a query over rows held in memory: the reference implementation adapters are compared with.
 * Adapters that cannot push a query down (IndexedDB residuals) reuse it for the part they filter themselves.
 */
export function executeQuery<R extends { id: string }>(rows: Iterable<R>, spec: QuerySpec): { rows: R[]; nextCursor?: string } {
  const sort = spec.sort ?? [];
  const position = spec.after === undefined ? undefined : decodeCursor(spec.after, sort);
  const matched: R[] = [];
  const accept = createMatcher(spec.filter);
  for (const row of rows) {
    if (!accept(row)) continue;
    if (position && compareRowToPosition(row, sort, position) <= 0) continue;
    matched.push(row);
  }
  matched.sort(compareRows(sort));
  return paginate(matched, spec);
}

/** Cuts sorted rows to `limit` and computes the next cursor. */
export function paginate<R extends { id: string }>(sorted: R[], spec: QuerySpec): { rows: R[]; nextCursor?: string } {
  if (spec.limit === undefined || sorted.length <= spec.limit) return { rows: sorted };
  const page = sorted.slice(0, spec.limit);
  return { rows: page, nextCursor: encodeCursor(page[page.length - 1]!, spec.sort ?? []) };
}

/** Computes an aggregate over rows in memory: the reference meaning of `AggregateSpec`. */
export function executeAggregate(rows: Iterable<unknown>, spec: AggregateSpec): AggregateRow[] {
  const groupBy = spec.groupBy ?? [];
  const groups = new Map<string, { key: (Scalar | null)[]; rows: unknown[] }>();
  const accept = createMatcher(spec.filter);
  for (const row of rows) {
    if (!accept(row)) continue;
    const key = groupBy.map((f) => {
      const v = getPath(row, f);
      return v === undefined ? null : (v as Scalar | null);
    });
    const id = JSON.stringify(key);
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { key, rows: [] }));
    group.rows.push(row);
  }
  if (groupBy.length === 0 && groups.size === 0) groups.set('[]', { key: [], rows: [] });
  const result: AggregateRow[] = [];
  for (const { key, rows: groupRows } of groups.values()) {
    const values: Record<string, number | string | null> = {};
    for (const [alias, metric] of Object.entries(spec.metrics)) {
      const rowsOfMetric = metric.where ? groupRows.filter(createMatcher(metric.where)) : groupRows;
      if (metric.fn === 'count') {
        values[alias] = rowsOfMetric.length;
        continue;
      }
      const present = rowsOfMetric.map((r) => getPath(r, metric.field)).filter((v) => v !== null && v !== undefined);
      switch (metric.fn) {
        case 'sum':
          values[alias] = (present as number[]).reduce((a, b) => a + b, 0);
          break;
        case 'avg':
          values[alias] = present.length === 0 ? null : (present as number[]).reduce((a, b) => a + b, 0) / present.length;
          break;
        case 'median': {
          const sorted = (present as number[]).slice().sort((a, b) => a - b);
          const mid = Math.floor(sorted.length / 2);
          values[alias] = sorted.length === 0 ? null : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
          break;
        }
        case 'min':
        case 'max': {
          let best: unknown = null;
          for (const v of present) {
            if (best === null || (metric.fn === 'min' ? compareValues(v, best) < 0 : compareValues(v, best) > 0)) best = v;
          }
          values[alias] = best as number | string | null;
          break;
        }
      }
    }
    const group: Record<string, Scalar | null> = {};
    groupBy.forEach((f, i) => (group[f] = key[i] ?? null));
    result.push({ group, values });
  }
  return result.sort((a, b) => {
    for (const f of groupBy) {
      const c = compareValues(a.group[f], b.group[f]);
      if (c !== 0) return c;
    }
    return 0;
  });
}
