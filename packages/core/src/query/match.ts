import type { Filter } from './query-spec.js';
import { compareStrings, compareValues } from './compare.js';
import { getPath } from './path.js';

/** Value lists longer than this are matched through a Set (timelines pass thousands of record keys). */
const SET_FROM = 16;

/** Sets of long value lists, built on first use by one matcher (never kept across calls: filters are the caller's). */
type SetCache = Map<readonly unknown[], ReadonlySet<unknown>>;

/**
 * The reference meaning of a filter: does `row` match it? Every storage adapter must agree with this
 * function on every row and filter; the conformance suite checks exactly that.
 */
export function matchFilter(row: unknown, filter: Filter | undefined): boolean {
  return matches(row, filter, undefined);
}

/**
 * `matchFilter` for many rows: the returned predicate answers exactly like it, but looks values of long
 * `in` and `containsAny` lists up in a Set built once. Make one per query; do not keep it after.
 */
export function createMatcher(filter: Filter | undefined): (row: unknown) => boolean {
  if (!filter) return () => true;
  const sets: SetCache = new Map();
  return (row) => matches(row, filter, sets);
}

function valueSet(values: readonly unknown[], sets: SetCache): ReadonlySet<unknown> {
  let set = sets.get(values);
  if (!set) sets.set(values, (set = new Set(values)));
  return set;
}

function matches(row: unknown, filter: Filter | undefined, sets: SetCache | undefined): boolean {
  if (!filter) return true;
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matches(row, f, sets));
    case 'or':
      return filter.filters.some((f) => matches(row, f, sets));
    case 'eq':
      return equals(getPath(row, filter.field), filter.value);
    case 'in': {
      const v = getPath(row, filter.field);
      if (sets && filter.values.length > SET_FROM) {
        // Same meaning as `equals` (strict equality; null matches missing), in O(1) per row.
        if (v === null || v === undefined) return valueSet(filter.values, sets).has(null);
        return v === v && valueSet(filter.values, sets).has(v);
      }
      return filter.values.some((candidate) => equals(v, candidate));
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const v = getPath(row, filter.field);
      if (v === null || v === undefined || typeof v !== typeof filter.value) return false;
      const c = compareValues(v, filter.value);
      return filter.op === 'lt' ? c < 0 : filter.op === 'lte' ? c <= 0 : filter.op === 'gt' ? c > 0 : c >= 0;
    }
    case 'prefix': {
      const v = getPath(row, filter.field);
      return typeof v === 'string' && v.startsWith(filter.value);
    }
    case 'containsAny': {
      const v = getPath(row, filter.field);
      if (!Array.isArray(v)) return false;
      if (sets && filter.values.length > SET_FROM) {
        const set = valueSet(filter.values, sets);
        return v.some((item) => set.has(item));
      }
      return filter.values.some((candidate) => v.includes(candidate));
    }
  }
}

function equals(value: unknown, expected: unknown): boolean {
  if (expected === null) return value === null || value === undefined;
  if (typeof value === 'string' && typeof expected === 'string') return compareStrings(value, expected) === 0;
  return value === expected;
}
