/**
 * Text every storage engine can hold and compare alike. PostgreSQL refuses NUL in `text` and `jsonb`
 * and refuses unpaired UTF-16 surrogates (`'\ud800'`) in `jsonb`; SQLite and the JavaScript engines
 * keep them, or silently replace them when converting to UTF-8. Refusing both at the boundary gives
 * one verdict on every adapter.
 */

/** Why a string cannot be stored, or `undefined` when it can. */
export function unstorableTextReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (!isWellFormed(text)) return 'must not contain unpaired UTF-16 surrogates (malformed Unicode)';
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const native = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** True when the string is well-formed UTF-16 (every surrogate paired). */
export function isWellFormed(text: string): boolean {
  return native ? native.call(text) : !LONE_SURROGATE.test(text);
}

/**
 * The first string (value or object key) inside a JSON-like value that cannot be stored, with its
 * path, or `undefined`. Walks arrays and plain objects to `maxDepth`.
 */
export function findUnstorableText(value: unknown, path: (string | number)[] = [], maxDepth = 64): { path: (string | number)[]; message: string } | undefined {
  const found = walk(value, maxDepth);
  return found && { path: [...path, ...found.rest.reverse()], message: found.message };
}

/**
 * The walk of `findUnstorableText`. The path is built only for a find, leaf first, on the way back
 * (storage checks every row, query and id with it: a path array per visited node was most of its cost).
 */
function walk(value: unknown, maxDepth: number): { rest: (string | number)[]; message: string } | undefined {
  if (typeof value === 'string') {
    const message = unstorableTextReason(value);
    return message ? { rest: [], message } : undefined;
  }
  if (value === null || typeof value !== 'object' || maxDepth <= 0) return undefined;
  const array = Array.isArray(value);
  for (const key of array ? value.keys() : Object.keys(value)) {
    const keyReason = array ? undefined : unstorableTextReason(key as string);
    if (keyReason) return { rest: [key], message: `field names ${keyReason}` };
    const found = walk((value as Record<string | number, unknown>)[key], maxDepth - 1);
    if (found) return found.rest.push(key), found;
  }
  return undefined;
}
