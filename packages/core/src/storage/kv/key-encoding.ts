/**
 * A key of an ordered key-value engine, in IndexedDB's key model: numbers sort before strings, strings
 * before arrays, and arrays compare element by element (a shorter prefix first).
 */
export type Key = number | string | Key[];

/**
 * How field values become key components of an ordered key-value engine (IndexedDB and any engine with
 * its key model).
 *
 * The encoding must be weakly monotone with respect to core's `compareValues` (a < b ⇒ enc(a) ≤ enc(b))
 * — and injective on everything but absurd numbers — because the query planner walks indexes in key
 * order, breaks ties by id, and stops early. It must also give a valid key for every value, because
 * IndexedDB silently leaves a record out of an index whose key is invalid. Following the ranks of
 * `compareValues` (missing < booleans < numbers < strings < anything else):
 *
 * - missing / `null` → `MISSING` (`-Infinity`), below every other key;
 * - `false` → `FALSE` (`-Number.MAX_VALUE`), `true` → `TRUE` (the next double): booleans are not
 *   valid keys, and must sort between missing and every number;
 * - numbers → themselves; the few below `TRUE` (`-Infinity` and the two most negative doubles) fold into
 *   `FLOOR`, the next double up;
 * - strings → `encodeString` (IndexedDB compares UTF-16 code units, the reference compares code points);
 * - objects and arrays → `ODD` (`[]`), above every string (they all compare equal in the reference).
 */
export const MISSING = -Infinity;
export const FALSE = -Number.MAX_VALUE;
export const TRUE = -1.7976931348623155e308;
/** The smallest number key: numbers at or below it share it. */
export const FLOOR = -1.7976931348623153e308;

/** Objects and arrays in scalar fields: above every string. Also the exclusive upper end of strings. */
export const ODD: Key = [];

/** A key component above every encoded value: `[…prefix, HIGH]` bounds everything that starts with `prefix`. */
export const HIGH: Key = [[]];

const NEEDS_MAPPING = /[\uD800-\uFFFF]/;

/**
 * Maps a string so that IndexedDB's code-unit order equals Unicode code-point order.
 * Surrogates (U+D800–U+DFFF, which encode code points above U+FFFF) must rank after U+E000–U+FFFF;
 * shifting each code unit the way `compareStrings` ranks them is a bijection, so equality and
 * prefixes survive. Strings without code units ≥ U+D800 (almost all) are returned unchanged.
 */
export function encodeString(value: string): string {
  if (!NEEDS_MAPPING.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    out += String.fromCharCode(unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit);
  }
  return out;
}

/** Encodes one field value as a key component (identity for plain strings and ordinary numbers). */
export function encodeValue(value: unknown): Key {
  if (value === null || value === undefined) return MISSING;
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      return value > FLOOR ? value : FLOOR;
    case 'boolean':
      return value ? TRUE : FALSE;
    default:
      // A new array each time (equal to `ODD`): a stored record holding one array at two indexed paths
      // would give keys that repeat an array, which IndexedDB refuses (DataError) when a read resumes after them.
      return [];
  }
}

/**
 * The smallest string greater than every string starting with `prefix` (already encoded), or
 * `undefined` when there is none (empty prefix, or only U+FFFF code units).
 */
export function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const unit = prefix.charCodeAt(i);
    if (unit < 0xffff) return prefix.slice(0, i) + String.fromCharCode(unit + 1);
  }
  return undefined;
}

const rank = (key: Key) => (typeof key === 'number' ? 0 : typeof key === 'string' ? 1 : 2);

/**
 * Compares two keys in the engine's order (IndexedDB's `cmp`): -1, 0 or 1. Strings compare by UTF-16
 * code unit, as IndexedDB does (`encodeString` makes that the code-point order).
 */
export function compareKeys(a: Key, b: Key): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra < 2) return a < b ? -1 : a > b ? 1 : 0;
  const x = a as Key[];
  const y = b as Key[];
  for (let i = 0; i < x.length && i < y.length; i++) {
    const c = compareKeys(x[i]!, y[i]!);
    if (c) return c;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}
