/** A stored record: same id and version means same content (every write bumps the version). */
interface Versioned {
  readonly id: string;
  readonly version: number;
}

/** Keeps the previous object of each unchanged record; returns the previous array when nothing changed. */
export function shareRecords<T extends Versioned>(previous: readonly T[] | undefined, next: readonly T[]): T[] {
  if (!previous) return next as T[];
  const byId = new Map(previous.map((r) => [r.id, r]));
  let changed = previous.length !== next.length;
  const out = next.map((record, i) => {
    const old = byId.get(record.id);
    const kept = old && old.version === record.version ? old : record;
    if (kept !== previous[i]) changed = true;
    return kept;
  });
  return changed ? out : (previous as T[]);
}

/** Structural equality of JSON values (for small derived values such as totals). */
export function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
