/** A plain report row: what tables and CSV files show. */
export type ReportRow = Readonly<Record<string, string | number | boolean | null>>;

function cell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  // Spreadsheets execute cells that start with these characters: neutralise them.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Renders rows as CSV (RFC 4180, CRLF line ends), with the union of their keys as the header unless
 * `columns` is given. Formula-like text is prefixed with `'` so spreadsheets do not run it.
 *
 * @example
 * const csv = toCsv(report.rows);
 */
export function toCsv(rows: readonly ReportRow[], columns?: readonly string[]): string {
  const header = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [header.map((h) => cell(h)).join(',')];
  for (const row of rows) lines.push(header.map((h) => cell(row[h])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
