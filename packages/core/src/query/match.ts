import type { Filter } from './query-spec.js';
import { compareStrings, compareValues } from './compare.js';
import { getPath } from './path.js';

/**
 * The reference meaning of a filter: does `row` match it? Every storage adapter must agree with this
 * function on every row and filter; the conformance suite checks exactly that.
 */
export function matchFilter(row: unknown, filter: Filter | undefined): boolean {
  if (!filter) return true;
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matchFilter(row, f));
    case 'or':
      return filter.filters.some((f) => matchFilter(row, f));
    case 'eq':
      return equals(getPath(row, filter.field), filter.value);
    case 'in': {
      const v = getPath(row, filter.field);
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
      return Array.isArray(v) && filter.values.some((candidate) => v.includes(candidate));
    }
  }
}

function equals(value: unknown, expected: unknown): boolean {
  if (expected === null) return value === null || value === undefined;
  if (typeof value === 'string' && typeof expected === 'string') return compareStrings(value, expected) === 0;
  return value === expected;
}
