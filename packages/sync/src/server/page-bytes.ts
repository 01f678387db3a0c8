/**
 * How many of a page's changes fit in `maxBytes` (design sync.md §7): whole server transactions (runs of
 * one `txPosition`) while their rows' JSON fits, in UTF-8 bytes; the first transaction always
 * goes, however big (a row is never split, an oversized one arrives alone or with its transaction).
 *
 * @param changes The page's changes in position order.
 * @param sizes Each change's JSON size in bytes (0 for one that sends no row).
 * @returns The count of leading changes to send.
 */
export function fitBytes(changes: readonly { readonly txPosition: number }[], sizes: readonly number[], maxBytes: number): number {
  let total = 0;
  for (let start = 0; start < changes.length; ) {
    let end = start + 1;
    while (end < changes.length && changes[end]!.txPosition === changes[start]!.txPosition) end++;
    const size = sizes.slice(start, end).reduce((a, b) => a + b, 0);
    if (start > 0 && total + size > maxBytes) return start;
    total += size;
    start = end;
  }
  return changes.length;
}
