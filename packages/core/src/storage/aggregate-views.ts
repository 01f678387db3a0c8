import { compareValues } from '../query/compare.js';
import { matchFilter } from '../query/match.js';
import { getPath } from '../query/path.js';
import type { AggregateRow, AggregateSpec, Filter, Scalar } from '../query/query-spec.js';
import type { Row } from './storage-adapter.js';
import type { AggregateViewSpec } from './storage-schema.js';

/**
 * The running totals of one group of a materialized aggregate (`AggregateViewSpec`) in one tenant.
 * Adapters store these records as they are (plain JSON) and update them with `addToViewGroup`.
 */
export interface ViewGroup {
  /** The group's values, in `view.groupBy` order (`null`: missing). */
  readonly key: (Scalar | null)[];
  /** Rows in the group. A group whose count drops to 0 must be deleted. */
  count: number;
  /** Sums of `view.sums`, in that order. */
  sums: number[];
  /**
   * Contributions that were not safe integers (a fraction, a non-number value). Sums maintained by
   * adding and subtracting are exact only for integers, so while this is above 0 readers must not trust
   * the group and compute the aggregate from rows instead.
   */
  inexact: number;
}

/** The group values of `row` in `view` (missing values as `null`, as `executeAggregate` groups them). */
export function viewGroupKey(view: AggregateViewSpec, row: Row): (Scalar | null)[] {
  return view.groupBy.map((field) => {
    const value = getPath(row, field);
    return value === undefined ? null : (value as Scalar | null);
  });
}

/** A string identifying a group key (for maps keyed by group). */
export function viewGroupId(key: readonly (Scalar | null)[]): string {
  return JSON.stringify(key);
}

/** An empty group for `key`. */
export function emptyViewGroup(view: AggregateViewSpec, key: (Scalar | null)[]): ViewGroup {
  return { key, count: 0, sums: view.sums.map(() => 0), inexact: 0 };
}

/**
 * Adds (`sign` 1) or removes (`sign` -1) a row's contribution to its group, in place. Values that are
 * missing or null add nothing (as in `executeAggregate`); values that are not safe integers count as
 * inexact. Sums of safe integers are exact as long as they stay below 2^53 (9·10^15 minor units).
 */
export function addToViewGroup(view: AggregateViewSpec, group: ViewGroup, row: Row, sign: 1 | -1): void {
  group.count += sign;
  view.sums.forEach((field, i) => {
    const value = getPath(row, field);
    if (value === null || value === undefined) return;
    if (!Number.isSafeInteger(value)) group.inexact += sign;
    else group.sums[i] = group.sums[i]! + sign * (value as number);
  });
}

/**
 * True when replacing `before` by `after` leaves every group of `view` as it is (same group, same
 * summed values): most updates (a title, a note) need not touch the view at all.
 */
export function sameViewContribution(view: AggregateViewSpec, before: Row, after: Row): boolean {
  return viewGroupId(viewGroupKey(view, before)) === viewGroupId(viewGroupKey(view, after)) && view.sums.every((f) => Object.is(getPath(before, f), getPath(after, f)));
}

/** A write's row before and after (`undefined`: absent). */
export type RowMove = readonly [before: Row | undefined, after: Row | undefined];

/** One row entering (`sign` 1) or leaving (`sign` -1) the group `key` of a view. */
export interface ViewMove {
  readonly key: (Scalar | null)[];
  readonly row: Row;
  readonly sign: 1 | -1;
}

/**
 * What writes do to one view: each row a write replaces leaves its group, each row it stores enters
 * one; updates that change neither the group nor a summed value are skipped (`sameViewContribution`).
 */
export function viewMoves(view: AggregateViewSpec, moved: readonly RowMove[]): ViewMove[] {
  const out: ViewMove[] = [];
  for (const [before, after] of moved) {
    if (before && after && sameViewContribution(view, before, after)) continue;
    if (before) out.push({ key: viewGroupKey(view, before), row: before, sign: -1 });
    if (after) out.push({ key: viewGroupKey(view, after), row: after, sign: 1 });
  }
  return out;
}

/** How an aggregate is answered from a view's groups (see `planViewRead`). */
export interface ViewRead {
  readonly view: AggregateViewSpec;
  /**
   * The values the view's first group field is restricted to by the filter, when it is (`eq`/`in`): the
   * adapter may read only the groups that start with one of them. Otherwise every group of the tenant.
   */
  readonly leading?: readonly (Scalar | null)[];
  /**
   * The aggregate from the groups the adapter read (any superset of the groups the filter selects,
   * in any order), or `undefined` when one of the selected groups is inexact: then compute from rows.
   */
  answer(groups: Iterable<ViewGroup>): AggregateRow[] | undefined;
}

function conjuncts(filter: Filter | undefined, out: Filter[]): boolean {
  if (!filter) return true;
  if (filter.op === 'and') return filter.filters.every((f) => conjuncts(f, out));
  if (filter.op !== 'eq' && filter.op !== 'in') return false;
  out.push(filter);
  return true;
}

/** `{ value: { currency: 'EUR' } }` from `['value.currency']` and `['EUR']`: what `matchFilter` reads. */
function groupRecord(fields: readonly string[], key: readonly (Scalar | null)[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  fields.forEach((field, i) => {
    const path = field.split('.');
    let target = record;
    for (const segment of path.slice(0, -1)) target = (target[segment] ??= {}) as Record<string, unknown>;
    target[path[path.length - 1]!] = key[i];
  });
  return record;
}

/**
 * Finds a materialized aggregate of `entity` that answers `spec` exactly: a conjunction of `eq`/`in`
 * conditions on its group fields, a `groupBy` within its group fields, and only `count` and `sum` (of
 * one of its sums) metrics without a `where`. Returns `undefined` when none does; the adapter then
 * computes the aggregate from rows, as it would without views.
 *
 * @param views The materialized aggregates the adapter keeps for the entity (`EntitySchema.aggregates`).
 * @param spec A validated aggregate spec.
 * @returns The plan: which view, which leading values to read, and how to turn groups into rows.
 * @example
 * const plan = planViewRead(entitySchemaOf(CRM_STORAGE_SCHEMA, 'deal').aggregates ?? [], { groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } });
 */
export function planViewRead(views: readonly AggregateViewSpec[], spec: AggregateSpec): ViewRead | undefined {
  const leaves: Filter[] = [];
  if (!conjuncts(spec.filter, leaves)) return undefined;
  const groupBy = spec.groupBy ?? [];
  const metrics = Object.entries(spec.metrics);
  for (const view of views) {
    const fits =
      groupBy.every((f) => view.groupBy.includes(f)) &&
      leaves.every((leaf) => 'field' in leaf && view.groupBy.includes(leaf.field)) &&
      metrics.every(([, m]) => !m.where && (m.fn === 'count' || (m.fn === 'sum' && view.sums.includes(m.field))));
    if (!fits) continue;
    const first = view.groupBy[0];
    const fixing = leaves.filter((leaf) => 'field' in leaf && leaf.field === first);
    const leading = fixing.length ? (fixing[0]!.op === 'eq' ? [fixing[0]!.value] : fixing[0]!.op === 'in' ? fixing[0]!.values : undefined) : undefined;
    const positions = groupBy.map((f) => view.groupBy.indexOf(f));
    return {
      view,
      ...(leading ? { leading } : {}),
      answer(groups) {
        const out = new Map<string, { key: (Scalar | null)[]; count: number; sums: number[] }>();
        for (const group of groups) {
          if (!matchFilter(groupRecord(view.groupBy, group.key), spec.filter)) continue;
          if (group.inexact > 0) return undefined;
          const key = positions.map((p) => group.key[p] ?? null);
          const id = viewGroupId(key);
          const into = out.get(id) ?? out.set(id, { key, count: 0, sums: view.sums.map(() => 0) }).get(id)!;
          into.count += group.count;
          group.sums.forEach((sum, i) => (into.sums[i]! += sum));
        }
        if (groupBy.length === 0 && out.size === 0) out.set('[]', { key: [], count: 0, sums: view.sums.map(() => 0) });
        const rows: AggregateRow[] = [...out.values()].map(({ key, count, sums }) => ({
          group: Object.fromEntries(groupBy.map((f, i) => [f, key[i] ?? null])),
          values: Object.fromEntries(metrics.map(([alias, m]) => [alias, m.fn === 'count' ? count : sums[view.sums.indexOf(m.field)]!])),
        }));
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
  return undefined;
}
