import { validationError, type ValidationIssue } from '../../errors/crm-error.js';
import { readCallerInput } from '../../errors/caller-input.js';

/** A plain report row: what tables and CSV files show. */
export type ReportRow = Readonly<Record<string, string | number | boolean | null>>;

/** Options of `toCsv`. */
export interface CsvOptions {
  /** The columns, in order (default: the union of the rows' keys, in first-seen order). */
  readonly columns?: readonly string[];
  /**
   * The field separator (default `,`). `;` is what spreadsheets expect in locales whose decimal mark
   * is a comma (most of Europe); `\t` makes a TSV.
   */
  readonly separator?: ',' | ';' | '\t' | '|';
  /** Start with a UTF-8 byte order mark, so that Excel reads accents correctly (default false). */
  readonly bom?: boolean;
}

/**
 * Text a spreadsheet would run as a formula (OWASP "CSV injection"): `=`, `+`, `-`, `@` (and their
 * full-width forms, which some spreadsheet versions treat the same way), tab, CR or LF first, also after
 * leading spaces — and after apostrophes, so that text that already starts with the guard (`'-) smiley`)
 * gets one more and reads back unchanged.
 */
const FORMULA_START = /^[\s']*[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/;
/** A plain decimal number (`-1234.56`, decimal-comma `-1234,56`): it starts with `-` or `+` but computes nothing, so it is left as it is. */
const PLAIN_NUMBER = /^[+-]?\d+([.,]\d+)?$/;

/** Whether a text cell is written with a leading `'` (see `toCsv`); `unguardCell` undoes exactly that. */
export function needsGuard(text: string): boolean {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text);
}

/** A cell's text as stored, when `csvCell` guarded it: the one leading `'` dropped; any other text unchanged. */
export function unguardCell(text: string): string {
  return text.startsWith("'") && needsGuard(text.slice(1)) ? text.slice(1) : text;
}

/** One CSV cell, formula-safe (see `toCsv`). */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return String(value);
  // Text is always quoted: a separator, quote or line break inside it can never split the cell.
  let text = String(value);
  if (needsGuard(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

/**
 * Renders rows as CSV for spreadsheets (RFC 4180, CRLF line ends): every text cell is quoted, and
 * text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR, LF first, also after
 * leading spaces or apostrophes) is prefixed with `'` (OWASP's advice), except plain numbers (`-12.5`,
 * `-12,5`); `crm.import.run` drops that one `'` again, so any text reads back as it was. Numbers and
 * booleans are written bare, missing values as empty cells.
 *
 * @param rows Report rows (`report.rows`).
 * @param options Columns, separator and byte order mark; an array is taken as `columns`.
 * @returns The CSV text.
 * @example
 * const csv = toCsv(report.rows, { separator: ';', bom: true }); // for Excel in a German locale
 */
export function toCsv(rows: readonly ReportRow[], options: CsvOptions | readonly string[] = {}): string {
  // Only the caller's rows and options are read here: anything but a CrmError (a throwing getter) is their VALIDATION.
  return readCallerInput('toCsv', () => {
    const opts: CsvOptions = Array.isArray(options) ? { columns: options as readonly string[] } : (options as CsvOptions);
    checkCsvInput(rows, opts);
    const separator = opts.separator ?? ',';
    const header = opts.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const lines = [csvLine(header, separator)];
    for (const row of rows) lines.push(csvRowLine(row, header, separator));
    return `${opts.bom ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
  });
}

/** One CSV line of cells, without its line end: the one writer behind `toCsv` and exports. */
export function csvLine(cells: readonly (string | number | boolean | null | undefined)[], separator: string): string {
  return cells.map(csvCell).join(separator);
}

/** A row's cells under `columns`, as one CSV line. */
export function csvRowLine(row: ReportRow, columns: readonly string[], separator: string): string {
  return csvLine(columns.map((h) => (Object.prototype.hasOwnProperty.call(row, h) ? row[h] : undefined)), separator);
}

const SEPARATORS = [',', ';', '\t', '|'];

/** `toCsv` is public: a separator that could sit inside a quoted cell, or rows that are not rows, are refused. */
function checkCsvInput(rows: unknown, opts: unknown): void {
  const issues: ValidationIssue[] = [];
  if (!Array.isArray(rows)) issues.push({ path: ['rows'], code: 'invalid_type', message: 'must be an array of report rows' });
  else if (rows.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) issues.push({ path: ['rows'], code: 'invalid_type', message: 'every row must be an object' });
  if (typeof opts !== 'object' || opts === null) issues.push({ path: ['options'], code: 'invalid_type', message: 'must be an options object or a list of columns' });
  else {
    const { columns, separator, bom, ...rest } = opts as Record<string, unknown>;
    for (const key of Object.keys(rest)) issues.push({ path: ['options', key], code: 'unknown_field', message: `unknown option "${key.slice(0, 50)}"` });
    if (separator !== undefined && !SEPARATORS.includes(separator as string)) issues.push({ path: ['options', 'separator'], code: 'invalid_value', message: 'must be ",", ";", "\\t" or "|"' });
    if (bom !== undefined && typeof bom !== 'boolean') issues.push({ path: ['options', 'bom'], code: 'invalid_type', message: 'must be true or false' });
    if (columns !== undefined && (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string'))) issues.push({ path: ['options', 'columns'], code: 'invalid_type', message: 'must be a list of column names' });
  }
  if (issues.length) throw validationError('toCsv', issues);
}
