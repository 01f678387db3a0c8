/**
 * A patch with every text the import read (trimmed) put back as stored where the stored text differs
 * only by surrounding spaces: an unchanged export re-imported changes nothing, and an import never trims a
 * record's text as a side effect. Nested objects (`custom`, `address`) are compared the same way.
 */
export function keepStoredSpacing(patch: Record<string, unknown>, stored: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const was = (stored as Record<string, unknown>)[key];
    if (typeof value === 'string' && typeof was === 'string' && was !== value && was.trim() === value) out[key] = was;
    else if (value && was && typeof value === 'object' && typeof was === 'object' && !Array.isArray(value) && !Array.isArray(was)) out[key] = keepStoredSpacing(value as Record<string, unknown>, was);
    else out[key] = value;
  }
  return out;
}
