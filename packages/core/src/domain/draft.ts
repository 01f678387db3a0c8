/**
 * A record's editable copy, handed to an update recipe. Records are plain JSON (what every storage
 * adapter stores), so a recipe may change any nested value of it without touching the original.
 */
export type Draft<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Produces the next immutable version of a JSON value: `recipe` edits a deep copy, and when the copy
 * ends up structurally equal to `base` the result is `base` itself, so callers can skip a write.
 *
 * A copy plus a comparison instead of immer's copy-on-write proxies: records are small JSON documents,
 * and the ≈ 4.3 kB min+gzip immer cost in the core bundle bought nothing the core needs (observers do
 * their own structural sharing, and the funnel's hot path already copies shallowly).
 * @param base the current value (a stored record; never modified, may be frozen)
 * @param recipe edits the draft in place; its return value is ignored
 * @returns `base` when nothing changed, otherwise the edited copy
 * @example
 * const next = produce(deal, (draft) => { draft.title = 'Chairs'; });
 */
export function produce<T>(base: T, recipe: (draft: Draft<T>) => unknown): T {
  const draft = cloneJson(base) as Draft<T>;
  recipe(draft);
  return deepEqual(draft, base) ? base : (draft as T);
}

/** A deep copy of a JSON value (`Object.fromEntries` defines keys, so a stored `__proto__` key stays data). */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneJson(v)])) as T;
}

/** Structural equality of JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
