import { unguardCell } from '../domain/analytics/csv.js';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { joinListCell, splitListCell } from './list-cells.js';
import { formatLocaleDate, formatLocaleMoney, formatLocaleNumber, parseBoolean, parseLocaleDate, parseLocaleMoney, parseLocaleNumber, parseTimestamp, splitFullName } from './value-parsers.js';
import { plainCell } from './plain-cell.js';

/** How a cell's text becomes a value. */
export type ValueKind = 'text' | 'number' | 'integer' | 'money' | 'date' | 'datetime' | 'boolean' | 'list';

/** One source row: column name → cell (CSV cells are text; rows passed as objects may hold any value). */
export type SourceRow = Readonly<Record<string, unknown>>;

/**
 * Where a field's value comes from, and how it is read. Give one of `column`, `columns` or `value`.
 *
 * @example
 * { column: 'Umsatz', as: 'money', currency: 'EUR' }          // '1.234,56' (de-DE) → { amount: 123456, currency: 'EUR' }
 * { column: 'Name', namePart: 'first' }                        // 'Ada Lovelace' → 'Ada'
 * { columns: ['First name', 'Last name'] }                     // joined with a space
 * { column: 'Tags', as: 'list', separator: '|' }
 */
export interface ColumnSpec {
  /** The source column. */
  readonly column?: string;
  /** Several columns joined with `join` (default one space); empty cells are left out. An export splits the value at `join` back into them. */
  readonly columns?: readonly string[];
  readonly join?: string;
  /** A constant for every row (a source tag, a pipeline id). */
  readonly value?: unknown;
  /**
   * How the text is read: numbers, money and dates in the run's `locale`. Default: by the field's kind — numbers as
   * `number`, booleans, lists and `externalRefs.<system>` as `list`, money and objects as JSON, the rest as text;
   * an export writes each the same way. An export refuses an `as` whose cell would not read back as the value.
   */
  readonly as?: ValueKind;
  /**
   * Takes the first or last name out of a full name: with a comma "Last, First" (split at the first comma:
   * `'Lovelace, Ada'` → `Ada` | `Lovelace`), else the last word is the last name (`'Ada King Lovelace'` →
   * `Ada King` | `Lovelace`); one word is a last name only.
   */
  readonly namePart?: 'first' | 'last';
  /** For `as: 'money'`: the ISO 4217 currency, or `currencyColumn` naming a column that holds it. */
  readonly currency?: string;
  readonly currencyColumn?: string;
  /**
   * For `as: 'list'`: the separator (default `,`); an item holding it is written and read in double quotes (`"a,b",c`).
   * `[]` is the empty list (an empty cell is no value).
   */
  readonly separator?: string;
  /** A row without a value fails (for create mode the entity's required fields are required anyway). */
  readonly required?: boolean;
  /** Used when the cell is empty. */
  readonly default?: unknown;
  /** Your own conversion of the (trimmed) cell; runs after `namePart`/`columns`, instead of `as`. Throw to fail the row. */
  readonly transform?: (value: string, row: SourceRow) => unknown;
  /** Export only: your own rendering of the field's value as a cell. */
  readonly format?: (value: unknown, record: Readonly<Record<string, unknown>>) => string | number | boolean | null;
}

/** Field path (`email`, `custom.vatId`, `value`) → the column it comes from, or a `ColumnSpec`. */
export type ImportMapping = Readonly<Record<string, string | ColumnSpec>>;

/** Options that reading cells needs. */
export interface CellOptions {
  /** BCP 47 locale of numbers and dates in the file (`de-DE`, `en-US`); default `en-US`. */
  readonly locale: string;
  /** The cells come from a CSV file: a leading `'` the export put before formula-like text is dropped (`unguardCell`). JSON and `rows` keep it. */
  readonly csv?: boolean;
  /** Field path → how its column is read and written without `as` (`kindSpec`: by the field's kind); default text. */
  readonly kinds?: Readonly<Record<string, ColumnSpec>>;
  /** Export to JSON: numbers without `as` are written as numbers, not in the locale's notation. */
  readonly typed?: boolean;
}

export function specOf(spec: string | ColumnSpec): ColumnSpec {
  return typeof spec === 'string' ? { column: spec } : spec;
}

/** The columns a mapping reads. */
export function columnsOf(mapping: ImportMapping): string[] {
  const out = new Set<string>();
  for (const raw of Object.values(mapping)) {
    const spec = specOf(raw);
    if (spec.column !== undefined) out.add(spec.column);
    for (const c of spec.columns ?? []) out.add(c);
    if (spec.currencyColumn !== undefined) out.add(spec.currencyColumn);
  }
  return [...out];
}

/**
 * A cell's text, trimmed; from a CSV file without the `'` its export put before text a spreadsheet would run as a
 * formula (the guard is a CSV concern). The guard goes before the trim: trimming first would cut the very tab or
 * CR the guard was written for (`'<tab>` read back as `'`), so every text reads back as the export's text, trimmed.
 */
function text(value: unknown, csv?: boolean): string {
  if (value === undefined || value === null) return '';
  return typeof value !== 'string' ? String(value) : (csv ? unguardCell(value.trimStart()) : value).trim();
}

/** Sets `path` (dotted) in `target`. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  // checkMappingSpecs refuses such paths up front; this guard keeps a prototype out of reach whatever the caller.
  if (keys.some((key) => key === '__proto__' || key === 'constructor' || key === 'prototype')) return;
  let node = target;
  for (const key of keys.slice(0, -1)) node = (Object.hasOwn(node, key) && node[key] != null ? node[key] : (node[key] = {})) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

function readCell(spec: ColumnSpec, row: SourceRow, options: CellOptions, kind: ColumnSpec = {}): { value?: unknown; problem?: string } {
  if (spec.value !== undefined) return { value: spec.value };
  const raw = spec.column !== undefined ? row[spec.column] : undefined;
  // Rows given as objects may carry typed values (numbers, arrays): they pass as they are, a list (`[]` too) under `as: 'list'` as well.
  if (spec.columns === undefined && raw !== undefined && raw !== null && typeof raw !== 'string' && !spec.transform && (!spec.as || (spec.as === 'list' && Array.isArray(raw))) && !spec.namePart) return { value: raw };
  const { locale, csv } = options;
  let cell = spec.columns ? spec.columns.map((c) => text(row[c], csv)).filter(Boolean).join(spec.join ?? ' ') : text(raw, csv);
  if (cell === '') return spec.default !== undefined ? { value: spec.default } : {};
  if (spec.namePart) cell = splitFullName(cell)[spec.namePart];
  if (cell === '') return {};
  // Without `as`, the field's kind says how (a number, a list, JSON): what the export wrote there.
  const transform = spec.transform ?? (spec.as ? undefined : kind.transform);
  if (transform) return { value: transform(cell, row) };
  switch (spec.as ?? kind.as ?? 'text') {
    case 'text':
      return { value: cell };
    case 'number':
    case 'integer': {
      const n = parseLocaleNumber(cell, locale);
      if (n === undefined) return { problem: `"${cell.slice(0, 40)}" is not a number in ${locale}` };
      if (spec.as === 'integer' && !Number.isInteger(n)) return { problem: `"${cell.slice(0, 40)}" is not a whole number` };
      return { value: n };
    }
    case 'money': {
      const currency = (spec.currencyColumn !== undefined ? text(row[spec.currencyColumn], csv) : spec.currency ?? '').toUpperCase();
      if (!/^[A-Z]{3}$/.test(currency)) return { problem: `no ISO 4217 currency for "${cell.slice(0, 40)}"` };
      const amount = parseLocaleMoney(cell, locale, currency);
      if (amount === undefined) return { problem: `"${cell.slice(0, 40)}" is not an amount of ${currency} in ${locale}` };
      return { value: { amount, currency } };
    }
    case 'date': {
      const date = parseLocaleDate(cell, locale);
      return date ? { value: date } : { problem: `"${cell.slice(0, 40)}" is not a date in ${locale} (or YYYY-MM-DD)` };
    }
    case 'datetime': {
      const at = parseTimestamp(cell, locale);
      return at ? { value: at } : { problem: `"${cell.slice(0, 40)}" is not an ISO 8601 time with an offset, nor a date in ${locale}` };
    }
    case 'boolean': {
      const b = parseBoolean(cell);
      return b === undefined ? { problem: `"${cell.slice(0, 40)}" is not yes/no` } : { value: b };
    }
    case 'list':
      return { value: splitListCell(cell, spec.separator ?? ',') };
  }
}

/**
 * Builds an API input from a source row. Problems are reported at the field's path, like the API's
 * own `VALIDATION` issues, and name the column.
 */
export function mapRow(row: SourceRow, mapping: ImportMapping, options: CellOptions): { input: Record<string, unknown>; issues: ValidationIssue[] } {
  const input: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  for (const [field, raw] of Object.entries(mapping)) {
    const spec = specOf(raw);
    const path = field.split('.');
    let read: { value?: unknown; problem?: string };
    try {
      read = readCell(spec, row, options, options.kinds?.[field]);
    } catch (error) {
      read = { problem: error instanceof Error ? error.message : String(error) };
    }
    const from = spec.column ?? spec.columns?.join(' + ');
    if (read.problem) issues.push({ path, code: 'invalid_value', message: `${read.problem}${from ? ` (column "${from}")` : ''}` });
    else if (read.value !== undefined) {
      // Two mapped paths that collide (`value` read by a transform as text, then `value.amount`) fail the row, never the run.
      try {
        setPath(input, field, read.value);
      } catch {
        issues.push({ path, code: 'invalid_value', message: `${field} cannot be set: another column fills its parent` });
      }
    }
    else if (spec.required) issues.push({ path, code: 'required', message: `a value is required${from ? ` (column "${from}" is empty)` : ''}` });
  }
  return { input, issues };
}

function getPath(record: Readonly<Record<string, unknown>>, path: string): unknown {
  // `externalRefs.<system>` names a ref by system (as the import reads it), not a key of the stored list.
  if (path.startsWith('externalRefs.') && Array.isArray(record.externalRefs)) {
    const system = path.slice('externalRefs.'.length);
    // A record may hold several ids of a system (after a merge): all of them, as a list.
    const ids = (record.externalRefs as { system: string; id: string }[]).filter((r) => r.system === system).map((r) => r.id);
    return ids.length > 1 ? ids : ids[0];
  }
  let node: unknown = record;
  for (const key of path.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

/**
 * The inverse of `mapRow` for exports: the cells of a record under the mapping's column names, in the
 * notation the import reads back (numbers, money and dates in the locale, lists joined, names split; without
 * `as` by the field's kind, `options.kinds`). A value the import would not read back as it is (12.5 under
 * `as: 'integer'`, several ids under `as: 'text'`) fails the export with `VALIDATION` naming the column.
 */
export function unmapRecord(record: Readonly<Record<string, unknown>>, mapping: ImportMapping, options: CellOptions): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  const { locale } = options;
  for (const [field, raw] of Object.entries(mapping)) {
    const spec = specOf(raw);
    if (spec.value !== undefined) continue;
    const value = getPath(record, field);
    const put = (column: string | undefined, cell: string | number | boolean | null) => {
      if (column !== undefined) out[column] = out[column] && typeof out[column] === 'string' && typeof cell === 'string' && cell ? `${out[column] as string} ${cell}` : (out[column] ?? cell);
    };
    if (spec.format) {
      put(spec.column ?? spec.columns?.[0], spec.format(value, record));
      continue;
    }
    if (value === undefined || value === null) {
      put(spec.column, null);
      continue;
    }
    if (spec.columns) {
      // The inverse of the import's join: the value split at `join`, one piece per column, the first column
      // taking what is left over ('Ada King Lovelace' → 'Ada King' | 'Lovelace'), so the cells join back to it.
      const pieces = String(value).split(spec.join ?? ' ');
      const n = spec.columns.length;
      const cells = [pieces.slice(0, Math.max(1, pieces.length - n + 1)).join(spec.join ?? ' '), ...pieces.slice(Math.max(1, pieces.length - n + 1))];
      spec.columns.forEach((c, i) => (out[c] = cells[i] ?? ''));
      continue;
    }
    if (spec.namePart) {
      put(spec.column, splitFullName(String(value))[spec.namePart]);
      continue;
    }
    const refuse = (what: unknown, use: string): never => {
      throw validationError('export.run', [{ path: ['mapping', field, 'as'], code: 'invalid_value', message: `${String(record.id)} holds ${String(what)}: column "${String(spec.column).slice(0, 50)}" would not read it back (${use})` }]);
    };
    const as = spec.as ?? options.kinds?.[field]?.as;
    switch (as) {
      case 'number':
      case 'integer':
        if (as === 'integer' && !Number.isInteger(value)) refuse(value, 'as: number');
        // A JSON export keeps a number a number where the mapping asks for no notation (the import takes it as it is).
        put(spec.column, typeof value !== 'number' ? String(value) : options.typed && !spec.as ? value : formatLocaleNumber(value, locale));
        break;
      case 'money': {
        const money = value as { amount: number; currency: string };
        // A fixed `currency` is what the import will read: an amount in another currency would come back relabelled.
        if (spec.currencyColumn === undefined && spec.currency !== undefined && spec.currency.toUpperCase() !== money.currency) {
          throw validationError('export.run', [{ path: ['mapping', field, 'currency'], code: 'currency_mismatch', message: `${String(record.id)} holds ${money.currency}, not ${spec.currency}: map a currencyColumn` }]);
        }
        // Money fields sharing a currency column must agree: one cell cannot hold two currencies (the import would relabel one).
        const shared = spec.currencyColumn !== undefined ? out[spec.currencyColumn] : undefined;
        if (shared != null && shared !== money.currency) {
          throw validationError('export.run', [{ path: ['mapping', field, 'currencyColumn'], code: 'currency_mismatch', message: `${String(record.id)} holds ${money.currency} here and ${shared} in the shared column "${spec.currencyColumn!.slice(0, 50)}": give each field its own currencyColumn` }]);
        }
        put(spec.column, formatLocaleMoney(money.amount, money.currency, locale));
        if (spec.currencyColumn !== undefined) out[spec.currencyColumn] = money.currency;
        break;
      }
      case 'date': {
        const cell = formatLocaleDate(String(value), locale);
        if (parseLocaleDate(cell, locale) !== value) refuse(value, 'years 0000-9999');
        put(spec.column, cell);
        break;
      }
      case 'datetime':
        // Written as stored (ISO 8601, UTC): what the import's datetime reads back to the same instant.
        if (parseTimestamp(String(value), locale) !== value) refuse(value, 'years 0000-9999');
        put(spec.column, String(value));
        break;
      case 'list':
        // A single id of a ref is a one-item list: a comma in it is quoted, not read as two ids.
        put(spec.column, joinListCell(Array.isArray(value) ? value : [value], spec.separator ?? ','));
        break;
      default:
        // By the field's kind (`plainCell`, as an export without a mapping writes it); text stays one string.
        if (Array.isArray(value) && spec.as === 'text') refuse(`${value.length} ids`, 'as: list');
        put(spec.column, plainCell(field, value));
    }
  }
  return out;
}
