import { compareValues, getPath, type AggregateRow, type AggregateSpec, type Scalar } from '@crmkit/core';

interface Group {
  readonly key: (Scalar | null)[];
  count: number;
  /** Per metric: the running sum, or the best value so far for min/max. */
  readonly values: unknown[];
  /** Per metric: how many non-null values were seen. */
  readonly present: number[];
}

/**
 * Computes an aggregate over streamed rows without holding them, with the exact meaning of core's
 * `executeAggregate`: groups keyed by `getPath` values (missing → null), nulls ignored by every metric
 * but `count`, `sum` of nothing 0, `avg`/`min`/`max` of nothing null, one empty group without
 * `groupBy`, groups ordered by key ascending.
 */
export function createAccumulator(spec: AggregateSpec): { add(row: unknown): void; result(): AggregateRow[] } {
  const groupBy = spec.groupBy ?? [];
  const metrics = Object.entries(spec.metrics);
  const groups = new Map<string, Group>();
  const newGroup = (key: (Scalar | null)[]): Group => ({
    key,
    count: 0,
    values: metrics.map(([, m]) => (m.fn === 'min' || m.fn === 'max' ? null : 0)),
    present: metrics.map(() => 0),
  });
  return {
    add(row) {
      const key = groupBy.map((f) => (getPath(row, f) ?? null) as Scalar | null);
      const id = JSON.stringify(key);
      let group = groups.get(id);
      if (!group) groups.set(id, (group = newGroup(key)));
      group.count++;
      metrics.forEach(([, metric], i) => {
        if (metric.fn === 'count') return;
        const v = getPath(row, metric.field);
        if (v === null || v === undefined) return;
        group.present[i]!++;
        const best = group.values[i];
        if (metric.fn === 'sum' || metric.fn === 'avg') group.values[i] = (best as number) + (v as number);
        else if (best === null || (metric.fn === 'min' ? compareValues(v, best) < 0 : compareValues(v, best) > 0)) group.values[i] = v;
      });
    },
    result() {
      if (groupBy.length === 0 && groups.size === 0) groups.set('[]', newGroup([]));
      const rows = [...groups.values()].map((g): AggregateRow => {
        const values: Record<string, number | string | null> = {};
        metrics.forEach(([alias, metric], i) => {
          const v = g.values[i] as number | string | null;
          values[alias] = metric.fn === 'count' ? g.count : metric.fn === 'avg' ? (g.present[i] ? (v as number) / g.present[i]! : null) : v;
        });
        const group: Record<string, Scalar | null> = {};
        groupBy.forEach((f, i) => (group[f] = g.key[i] ?? null));
        return { group, values };
      });
      return rows.sort((a, b) => {
        for (const f of groupBy) {
          const c = compareValues(a.group[f], b.group[f]);
          if (c !== 0) return c;
        }
        return 0;
      });
    },
  };
}
