/** The cell of an empty list: an empty cell is no value (a create's default, an update leaves the field as it is). */
export const EMPTY_LIST = '[]';

/**
 * A list cell's items, split at `separator`: an item in double quotes (`"a,b"`, a quote in it doubled, as
 * in CSV) may hold the separator or surrounding spaces; other items are trimmed; empty items are left out.
 * `[]` is the empty list (an item `[]` is quoted). `joinListCell` writes what this reads back.
 */
export function splitListCell(cell: string, separator: string): string[] {
  const items: string[] = [];
  if (cell.trim() === EMPTY_LIST) return items;
  for (let i = 0; i <= cell.length; ) {
    const quoted = /^\s*"((?:[^"]|"")*)"\s*/.exec(cell.slice(i));
    const after = quoted ? i + quoted[0].length : -1;
    let item: string;
    if (quoted && (after === cell.length || cell.startsWith(separator, after))) {
      item = quoted[1]!.replace(/""/g, '"');
      i = after + separator.length;
    } else {
      const end = cell.indexOf(separator, i);
      item = cell.slice(i, end < 0 ? cell.length : end).trim();
      i = end < 0 ? cell.length + 1 : end + separator.length;
    }
    if (item) items.push(item);
  }
  return items;
}

/**
 * Joins list items into one cell that `splitListCell` reads back: an item holding the separator, starting
 * with a quote, with surrounding spaces or that is `[]` is quoted; no items is `[]`.
 */
export function joinListCell(items: readonly unknown[], separator: string): string {
  if (!items.length) return EMPTY_LIST;
  return items
    .map(String)
    .map((item) => (item.includes(separator) || item.trimStart().startsWith('"') || item !== item.trim() || item === EMPTY_LIST ? `"${item.replace(/"/g, '""')}"` : item))
    .join(separator);
}
