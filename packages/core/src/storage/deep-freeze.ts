import { validationError } from '../errors/crm-error.js';

/**
 * Records known to be deeply frozen (the roots `deepFreeze` handled). A frozen copy of such a record
 * is the record itself, found in O(1): every record crmkit writes is frozen once and then stored,
 * emitted and handed out without another walk.
 */
const deeplyFrozen = new WeakSet<object>();

/** Rows nest a few levels; this only stops cyclic or hostile structures from overflowing the stack. */
const MAX_DEPTH = 256;

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Freezes the JSON containers of a tree crmkit built. A frozen one is frozen all the way down (crmkit freezes deeply). */
function freezeTree(value: object): void {
  if (Object.isFrozen(value) || !isPlainContainer(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const child of value) if (child !== null && typeof child === 'object') freezeTree(child as object);
    return;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object') freezeTree(child);
  }
}

/**
 * Freezes a JSON document crmkit built itself, in place and recursively, and returns it. Class
 * instances inside (an `Error` in an observer's snapshot) are left as they are.
 * Never call it on an object a caller passed in (the caller still owns it): use `frozenCopy`.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || deeplyFrozen.has(value)) return value;
  if (!isPlainContainer(value)) return value;
  freezeTree(value);
  deeplyFrozen.add(value);
  return value;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // An own "__proto__" key (from JSON.parse) must stay data, not become the copy's prototype.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function copy(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || deeplyFrozen.has(value)) return value;
  if (depth > MAX_DEPTH) {
    throw validationError('storage write', [{ path: [], code: 'too_big', message: `rows must be JSON documents nesting at most ${MAX_DEPTH} levels` }]);
  }
  if (!isPlainContainer(value)) return deepFreeze(structuredClone(value));
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  const array = Array.isArray(value);
  // A frozen container is kept when all its children are; anything mutable is copied.
  let out: Record<string, unknown> | undefined = Object.isFrozen(value) ? undefined : array ? (new Array(source.length) as unknown as Record<string, unknown>) : {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const child = source[key];
    const next = copy(child, depth + 1);
    if (out === undefined && next !== child) {
      out = array ? (new Array(source.length) as unknown as Record<string, unknown>) : {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j]!, source[keys[j]!]);
    }
    if (out !== undefined) setOwn(out, key, next);
  }
  return Object.freeze(out ?? source);
}

/**
 * A deeply frozen equal of a JSON document that shares nothing mutable with it: deeply frozen parts
 * are reused as they are, everything else is copied and the copy frozen. The argument is never
 * frozen or changed, so a caller keeps owning what it passed in — and can no longer change what the
 * result holds. Storage adapters use it for rows passed to `write`.
 *
 * @param value A JSON document (plain objects, arrays, strings, numbers, booleans, null).
 * @returns The value itself when it is already deeply frozen, else a frozen copy.
 * @throws CrmError `VALIDATION` for structures nesting deeper than 256 levels (cycles).
 * @example
 * const stored = frozenCopy(row); // row stays mutable and unshared
 */
export function frozenCopy<T>(value: T): T {
  const result = copy(value, 0);
  if (result !== null && typeof result === 'object') deeplyFrozen.add(result);
  return result as T;
}
