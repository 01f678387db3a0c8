/**
 * Reads a dotted path (`value.amount`, `custom.budget`) from a record.
 * Only own properties are followed, so a path can never reach `__proto__` or inherited members.
 */
export function getPath(record: unknown, path: string): unknown {
  let current: unknown = record;
  let start = 0;
  while (start <= path.length) {
    const dot = path.indexOf('.', start);
    const key = dot === -1 ? path.slice(start) : path.slice(start, dot);
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
    if (dot === -1) return current;
    start = dot + 1;
  }
  return current;
}
