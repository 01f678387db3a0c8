import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import { specOf, type ColumnSpec, type ValueKind } from './column-mapping.js';

/**
 * What a record holds at a field path: what an export's `as` must fit. `time`: an instant (ISO time), `date`: a
 * calendar date (YYYY-MM-DD); `minor`: a line's price in minor units (a number, or money in the deal's currency).
 */
export type FieldKind = 'text' | 'number' | 'boolean' | 'list' | 'money' | 'time' | 'date' | 'ref' | 'minor' | 'object';

/**
 * The field kinds each `as` writes so that the import, reading the cell the same way, gets the value back: `text`
 * reads a string, so it writes text, dates, times and an external id, not a number or a list; a date is no
 * instant and an instant no date.
 */
const FITS: Readonly<Record<ValueKind, readonly FieldKind[]>> = {
  text: ['text', 'time', 'date', 'ref'],
  number: ['number', 'minor'],
  integer: ['number', 'minor'],
  money: ['money', 'minor'],
  date: ['date'],
  datetime: ['time'],
  boolean: ['boolean'],
  list: ['list', 'ref'],
};

const KIND_WORDS: Readonly<Record<string, string>> = { minor: 'minor units', time: 'a date-time', date: 'a date', ref: 'an id', list: 'a list', object: 'an object' };

const CUSTOM: Readonly<Record<string, FieldKind>> = { number: 'number', boolean: 'boolean', date: 'date', multiselect: 'list', money: 'money' };
const LINE: Readonly<Record<string, FieldKind>> = { quantity: 'number', discountPercent: 'number', unitPrice: 'minor' };
const STORED: Readonly<Record<string, FieldKind>> = { number: 'number', boolean: 'boolean', 'string[]': 'list' };

/** A zod (mini) schema's kind: wrappers (optional, nullable, default, pipe) looked through. */
function zodKind(schema: unknown): FieldKind {
  let def = (schema as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
  while (def && (def.innerType || def.in)) def = (def.innerType ?? def.in) as typeof def;
  def = (def as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def ?? def;
  const type = def?.type;
  if (type === 'number' || type === 'boolean') return type;
  if (type === 'array') return zodKind(def!.element) === 'text' ? 'list' : 'object';
  if (type === 'object') return ['amount', 'currency'].every((k) => Object.hasOwn(def!.shape as object, k)) ? 'money' : 'object';
  return type === 'string' && def!.format === 'date' ? 'date' : type === 'string' && def!.format === 'datetime' ? 'time' : 'text';
}

/**
 * The kind of value `entity` records hold at `path`: the stored field's type (`value` with `value.amount`
 * and `value.currency` is money; string fields named `…At`, `…Since` are ISO times, `…Date` dates), a custom
 * field's type (a money field's `.amount` a number), a line item's field, or else the input schema's (`shape`).
 */
export function fieldKind(entity: string, path: string, custom: Readonly<Record<string, string>>, shape: Readonly<Record<string, unknown>> | undefined): FieldKind {
  const [head, ...rest] = path.split('.');
  if (head === 'custom' && rest.length) return CUSTOM[custom[rest.join('.')] ?? ''] ?? (rest.at(-1) === 'amount' && custom[rest.slice(0, -1).join('.')] === 'money' ? 'number' : 'text');
  if (head === 'externalRefs') return rest.length ? 'ref' : 'object';
  if (head === 'lineItems') return rest.length ? (LINE[rest[0]!] ?? 'text') : 'object';
  const fields = CRM_STORAGE_SCHEMA.entities.find((e) => e.name === entity)!.fields as Readonly<Record<string, string>>;
  const type = fields[path];
  if (type) return STORED[type] ?? (/(At|Since)$/.test(path) ? 'time' : path.endsWith('Date') ? 'date' : 'text');
  const children = Object.keys(fields).filter((f) => f.startsWith(`${path}.`)).map((f) => f.slice(path.length + 1));
  if (children.length) return children.includes('amount') && children.includes('currency') ? 'money' : 'object';
  let node: unknown = { shape };
  for (const key of path.split('.')) node = (node as { shape?: Record<string, unknown> } | undefined)?.shape?.[key] ?? (node as { _zod?: { def?: { innerType?: { shape?: Record<string, unknown> } } } })?._zod?.def?.innerType?.shape?.[key];
  return path === 'id' ? 'text' : zodKind(node);
}

/**
 * Refuses an export column whose `as` (or `namePart`, `columns`) cannot write the field's value, before a
 * line is written: `tags` as a date, `name` as money or a number (`VALIDATION`, `invalid_value` at `mapping.<field>.as`).
 */
export function checkExportKinds(entity: string, mapping: Readonly<Record<string, unknown>>, custom: Readonly<Record<string, string>>, shape: Readonly<Record<string, unknown>> | undefined): void {
  const issues: ValidationIssue[] = [];
  for (const [field, raw] of Object.entries(mapping)) {
    const spec = specOf(raw as ColumnSpec);
    if (spec.value !== undefined || spec.format) continue;
    const kind = fieldKind(entity, field, custom, shape);
    // Without `as` a column is written and read by the field's kind (kindSpec): it fits any.
    if (spec.as !== undefined && !FITS[spec.as].includes(kind)) issues.push({ path: ['mapping', field, 'as'], code: 'invalid_value', message: `${field} holds ${KIND_WORDS[kind] ?? kind}, not ${spec.as}: use ${Object.entries(FITS).filter(([, k]) => k.includes(kind)).map(([as]) => as).join(', ')}, no as (its kind) or a format` });
    else if ((spec.namePart || spec.columns) && kind !== 'text') issues.push({ path: ['mapping', field, spec.namePart ? 'namePart' : 'columns'], code: 'invalid_value', message: `${field} is not a name: namePart and columns split names` });
  }
  if (issues.length) throw validationError('export.run', issues);
}
