import type { ValidationIssue } from '../errors/crm-error.js';

/** Deeper than this is no rule anyone writes (and keeps the walk off the stack limit). */
const MAX_DEPTH = 32;
/** An array hole or undefined item, met while listing an array. */
const HOLE = Symbol('hole');

/**
 * The first place where `value` is not plain JSON (a bigint, function, symbol, non-finite number,
 * class instance such as a Date, a cycle, or nesting deeper than 32), as a `VALIDATION` issue; `undefined`
 * when it is JSON. A rule is stored as JSON on every adapter, so what JSON cannot say must be refused
 * up front, not turned into a `TypeError` or a silently different value (`NaN` → `null`).
 *
 * @param value - The input, e.g. a rule definition.
 * @param path - The path of `value` in the input, for the issue.
 * @returns The issue, or `undefined`.
 * @example jsonIssue({ data: { n: 1n } }) // { path: ['data', 'n'], code: 'invalid_type', … }
 */
export function jsonIssue(value: unknown, path: (string | number)[] = [], seen: Set<object> = new Set()): ValidationIssue | undefined {
  const bad = (message: string): ValidationIssue => ({ path, code: 'invalid_type', message });
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : bad('must be a finite number (JSON has no NaN or Infinity)');
    case 'object':
      break;
    default:
      return bad(`must be a JSON value, not a ${typeof value}`);
  }
  if (value === null) return undefined;
  if (path.length > MAX_DEPTH) return bad(`nests deeper than ${MAX_DEPTH} levels`);
  if (seen.has(value)) return bad('refers to itself (JSON cannot hold a cycle)');
  let entries: [string | number, unknown][];
  try {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return bad('must be a plain object, array or value (JSON)');
    // Array holes and undefined items would be stored as null: refused, like NaN.
    entries = Array.isArray(value) ? Array.from(value, (item, i) => [i, item === undefined ? HOLE : item]) : Object.entries(value);
  } catch (error) {
    // A throwing getter or proxy: the caller's input, not a crmkit fault.
    return bad(`cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  seen.add(value);
  for (const [key, item] of entries) {
    const issue = item === HOLE ? { path: [...path, key], code: 'invalid_type', message: 'must be a JSON value (an array holds no undefined or hole: JSON would store null)' } : jsonIssue(item, [...path, key], seen);
    if (issue) return issue;
  }
  seen.delete(value);
  return undefined;
}

/** Size of `value` as UTF-8 JSON in bytes (what a storage column holds), for a JSON value. */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value ?? null) ?? 'null').length;
}
