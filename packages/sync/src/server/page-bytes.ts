/**
 * The UTF-8 length of `text` in bytes, without encoding it: 1 byte below U+0080, 2 below U+0800, 4 for a
 * surrogate pair, 3 otherwise (a lone surrogate too: it is sent as U+FFFD).
 */
export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // the pair: 2 characters, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * How many of a page's changes fit in `maxBytes` (design sync.md §7): whole server transactions (runs of
 * one `txPosition`) while their rows' JSON fits, in UTF-8 bytes (`utf8Bytes`); the first transaction always
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
