// Helpers for tests of the ownership rule: crmkit never freezes, changes or keeps what a caller passed
// in, and nothing it hands out lets a caller change stored state. No vitest here: they report problems.

type Path = (string | number)[];

/** Paths inside `value` that are frozen, sealed or not extensible (empty when the caller still owns all of it). */
export function lockedPaths(value: unknown, path: Path = [], out: string[] = []): string[] {
  if (value === null || typeof value !== 'object') return out;
  if (!Object.isExtensible(value) || Object.isFrozen(value) || Object.isSealed(value)) out.push(path.join('.') || '(root)');
  for (const key of Object.keys(value)) lockedPaths((value as Record<string, unknown>)[key], [...path, key], out);
  return out;
}

/** A deep copy of plain data, to compare against later (`structuredClone` keeps `undefined` values). */
export function snapshotOf<T>(value: T): T {
  return structuredClone(value);
}

/**
 * Tries to change every object and array inside `value` — set, add and delete properties, push to
 * arrays — ignoring the `TypeError`s frozen objects throw. Returns how many changes went through.
 */
export function scribble(value: unknown, depth = 0): number {
  if (value === null || typeof value !== 'object' || depth > 64) return 0;
  let changed = 0;
  const attempt = (fn: () => void) => {
    try {
      fn();
      changed++;
    } catch {
      // Frozen: the change is refused, which is fine.
    }
  };
  const target = value as Record<string, unknown>;
  for (const key of Object.keys(target)) {
    const child = target[key];
    if (child !== null && typeof child === 'object') changed += scribble(child, depth + 1);
    else attempt(() => void (target[key] = typeof child === 'number' ? child + 1 : typeof child === 'string' ? `${child}!` : typeof child === 'boolean' ? !child : 'scribbled'));
  }
  if (Array.isArray(value)) attempt(() => void value.push('scribbled'));
  else attempt(() => void (target.scribbled = true));
  return changed;
}
