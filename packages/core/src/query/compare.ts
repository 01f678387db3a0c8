import type { SortSpec } from './query-spec.js';
import { getPath } from './path.js';

/**
 * Compares strings by Unicode code point, which is what SQLite (BINARY) and PostgreSQL (`COLLATE "C"`) do.
 * JavaScript's `<` compares UTF-16 code units and disagrees for characters beyond U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Surrogates (U+D800–U+DFFF) encode code points above U+FFFF, so they must rank after U+E000–U+FFFF.
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

function typeRank(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'number') return 2;
  if (typeof value === 'string') return 3;
  return 4;
}

/**
 * The total order of field values: missing/null < booleans (false < true) < numbers < strings.
 * Fields hold one type each, so mixed types only meet as "missing vs present".
 */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return (a ? 1 : 0) - (b ? 1 : 0);
    case 2:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 3:
      return compareStrings(a as string, b as string);
    default:
      return 0;
  }
}

/** Compares ids for the final tie-break. */
export function compareIds(a: string, b: string): number {
  return compareStrings(a, b);
}

/**
 * A comparator that orders rows by `sort`, then by `id` ascending — the reference ordering of every query.
 *
 * @example
 * rows.sort(compareRows([{ field: 'value.amount', direction: 'desc' }]))
 */
export function compareRows(sort: readonly SortSpec[] = []): (a: { id: string }, b: { id: string }) => number {
  return (a, b) => {
    for (const key of sort) {
      const c = compareValues(getPath(a, key.field), getPath(b, key.field));
      if (c !== 0) return key.direction === 'desc' ? -c : c;
    }
    return compareIds(a.id, b.id);
  };
}

/** Compares a row with a cursor position (the sort values and id of the last row of the previous page). */
export function compareRowToPosition(
  row: { id: string },
  sort: readonly SortSpec[],
  position: { readonly values: readonly unknown[]; readonly id: string },
): number {
  for (let i = 0; i < sort.length; i++) {
    const key = sort[i]!;
    const c = compareValues(getPath(row, key.field), position.values[i]);
    if (c !== 0) return key.direction === 'desc' ? -c : c;
  }
  return compareIds(row.id, position.id);
}
