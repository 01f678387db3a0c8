import { findUnstorableText, type Row } from '@crmkit/core/storage';
import type { SqlDialect } from './sql-dialect.js';
import { invalidInput } from './storage-errors.js';
import type { EntityTable, ListTable } from './table-layout.js';

/** Reads a dotted path from a row the way `getPath` does for JSON documents. */
function read(row: Row, segments: readonly string[]): unknown {
  let value: unknown = row;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/**
 * The values of the field columns of `row`, in layout order. A value whose JSON type differs from the
 * declared type is stored as NULL (the same rule `migrations.ts` uses when it fills a new column), so a
 * column only ever holds its declared type.
 */
export function columnValues(dialect: SqlDialect, table: EntityTable, row: Row): unknown[] {
  return fillColumnValues(dialect, table, row, new Array<unknown>(table.columns.length), 0);
}

/** `columnValues` written into `out` from `offset` on (a statement's parameter array): no array of its own. */
export function fillColumnValues(dialect: SqlDialect, table: EntityTable, row: Row, out: unknown[], offset: number): unknown[] {
  const { columns } = table;
  for (let i = 0; i < columns.length; i++) out[offset + i] = columnValue(dialect, table, row, i);
  return out;
}

/** The value of field column `i` of `row` (see `columnValues`). */
export function columnValue(dialect: SqlDialect, table: EntityTable, row: Row, i: number): unknown {
  const c = table.columns[i]!;
  return dialect.columnValue(read(row, c.segments), c.type);
}

/** The distinct string elements of a list field (non-strings cannot match `containsAny`). */
export function listValues(list: ListTable, row: Row): string[] {
  const value = read(row, list.segments);
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const v of value) if (typeof v === 'string' && !out.includes(v)) out.push(v);
  return out;
}

/** The stored document: the whole row as JSON text. */
export function docText(row: Row, context: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(row);
  } catch (error) {
    throw invalidInput(context, ['row'], 'invalid_type', `rows must be JSON documents (${(error as Error).message})`);
  }
  if (typeof text !== 'string') throw invalidInput(context, ['row'], 'invalid_type', 'rows must be JSON objects');
  // JSON.stringify escapes NUL and unpaired surrogates (and only those) as \u0000 / \udXXX: one scan of
  // the text finds them; the row is then walked for the path.
  // `includes` first: a plain substring search, far cheaper than the regex over every document.
  if (text.includes('\\u') && UNSTORABLE_ESCAPE.test(text)) {
    const found = findUnstorableText(row);
    if (found) throw invalidInput(context, found.path, 'invalid_format', found.message);
  }
  return text;
}

/** A `\u0000` or `\ud800`–`\udfff` escape (preceded by an even number of backslashes, so not escaped itself). */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;
