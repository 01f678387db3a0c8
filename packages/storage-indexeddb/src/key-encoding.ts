import type { FieldType } from '@crmkit/core';

/**
 * How field values become IndexedDB key components.
 *
 * The encoding must be weakly monotone with respect to core's `compareValues` (a < b ⇒ enc(a) ≤ enc(b)),
 * because the query planner walks indexes in key order and stops early. It must also be defined for
 * every value, because IndexedDB silently leaves a record out of an index whose key is invalid, and a
 * row missing from an index would be missing from query results. Hence:
 *
 * - missing / `null` → `-Infinity`, below every other key (missing values sort first ascending);
 * - strings → `encodeString` (IndexedDB compares UTF-16 code units, the reference compares code points);
 * - numbers → themselves, with `-Infinity`, `NaN` and `-Number.MAX_VALUE` folded into `LOW`;
 * - booleans (not valid IndexedDB keys) → `0` / `1` in boolean fields;
 * - values of an unexpected type (which core's schemas never produce) → a key of the same rank class
 *   (`LOW` below numbers, `2` above booleans, `ODD` above strings), so order stays weakly monotone and
 *   the residual filter (always applied) decides what matches.
 */
export const MISSING = -Infinity;

/** Booleans in number/string fields and numbers ≤ -Number.MAX_VALUE: just above `MISSING`. */
export const LOW = -Number.MAX_VALUE;

/** Objects and arrays in scalar fields: above every string. Also the exclusive upper end of strings. */
export const ODD: IDBValidKey = [];

/** A key component above every encoded value: `[…prefix, HIGH]` bounds everything that starts with `prefix`. */
export const HIGH: IDBValidKey = [[]];

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

/** Encodes one field value as a key component, for a field declared as `type`. */
export function encodeValue(value: unknown, type: FieldType | undefined): IDBValidKey {
  if (value === null || value === undefined) return MISSING;
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      return type === 'boolean' ? 2 : value > LOW ? value : LOW;
    case 'boolean':
      return type === 'boolean' ? +value : LOW;
    default:
      return ODD;
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
