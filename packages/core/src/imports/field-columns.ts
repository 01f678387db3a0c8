import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import { setPath, type ColumnSpec, type ImportMapping, type SourceRow, type ValueKind } from './column-mapping.js';
import { isFieldPath } from './field-paths.js';
import type { EntityImporter } from './import-entities.js';
import { splitListCell } from './list-cells.js';
import { fieldKind } from './field-kinds.js';
import type { ExternalRef } from '../schema/external-ref.js';

/** How a cell is read by its field's kind (`fieldKind`); other kinds (text, dates, times) as text. */
const KINDS: Readonly<Record<string, ValueKind>> = { number: 'number', minor: 'number', boolean: 'boolean', list: 'list', ref: 'list' };

const storedFields = (entity: string): Readonly<Record<string, string>> => CRM_STORAGE_SCHEMA.entities.find((e) => e.name === entity)!.fields;

/** Columns crmkit writes itself that name an input too (an update's `version` is its optimistic check): without a mapping, bookkeeping. */
const BOOKKEEPING = ['id', 'tenantId', 'version', 'createdAt', 'updatedAt'];

/**
 * Whether a column (or row key) without a mapping is one crmkit writes itself and an import leaves alone:
 * the record's bookkeeping (`version`, `createdAt`, `updatedAt`, `tenantId`) or a stored field no input takes
 * (`weightedValue.amount`, `status`, `externalKeys`) — what an export without a mapping holds beside the fields the import reads.
 * `id` is read (a created record keeps it; an update drops it).
 */
export function isSystemColumn(importer: EntityImporter, path: string): boolean {
  const head = path.split('.')[0]!;
  if (head === 'version' || head === 'createdAt' || head === 'updatedAt') return true;
  return !isFieldPath(importer.shape, path) && (BOOKKEEPING.includes(head) || Object.keys(storedFields(importer.entity)).some((f) => f.split('.')[0] === head));
}

/** An `externalRefs` cell of `system:id` keys (as `externalKeys` spell them), listed as a list cell. */
function refsCell(cell: string): ExternalRef[] {
  return splitListCell(cell, ',').map((k) => {
    const colon = k.indexOf(':');
    if (colon < 1) throw new Error(`"${k.slice(0, 40)}" is not system:id`);
    return { system: k.slice(0, colon), id: k.slice(colon + 1) };
  });
}

/** A deal's stored line items carry their derived `total`: read back without it (the deal prices them again). */
const withoutDerived = (field: string, value: unknown): unknown =>
  field === 'lineItems' && Array.isArray(value) ? value.map((line: unknown) => (line && typeof line === 'object' ? Object.fromEntries(Object.entries(line).filter(([k]) => k !== 'total')) : line)) : value;

/** A cell holding JSON (an export's line items or participants). */
const jsonCell = (field: string) => (cell: string): unknown => {
  try {
    return withoutDerived(field, JSON.parse(cell));
  } catch {
    throw new Error(`"${cell.slice(0, 40)}" is not JSON`);
  }
};

/**
 * How a column without `as` (or `transform`) is read, and written by `plainCell`: by the kind of value the field
 * holds (`fieldKind`; `customTypes`: custom field key → type) — numbers (a money custom field's `.amount` too) as
 * numbers in the locale, booleans as yes/no, lists and `externalRefs.<system>` ids as list cells, `externalRefs` as
 * `system:id` keys, money and other objects (line items, participants) as JSON, the rest (text, dates, times) as text.
 * So an export with a mapping reads back with the same mapping, `as` or not.
 */
export function kindSpec(entity: string, path: string, customTypes: Readonly<Record<string, string>>, shape: Readonly<Record<string, unknown>> | undefined): ColumnSpec {
  if (path === 'externalRefs') return { transform: refsCell };
  const kind = fieldKind(entity, path, customTypes, shape);
  if (kind === 'object' || kind === 'money') return { transform: jsonCell(path) };
  const as = KINDS[kind];
  return as ? { as } : {};
}

/** `kindSpec` of each field of a mapping. */
export function kindSpecs(entity: string, mapping: ImportMapping, customTypes: Readonly<Record<string, string>>, shape: Readonly<Record<string, unknown>> | undefined): Record<string, ColumnSpec> {
  return Object.fromEntries(Object.keys(mapping).map((path) => [path, kindSpec(entity, path, customTypes, shape)]));
}

/**
 * The mapping a CSV file without one stands for: each column a field path (`name`, `custom.vatId`,
 * `externalRefs.shop`, `value.amount`) read by its field's kind (`kindSpec`): a money custom field's
 * `custom.<key>.amount` (minor units) and `custom.<key>.currency`, `externalRefs` as `system:id` keys, objects
 * (line items, participants) as JSON; system columns are left out.
 */
export function headerMapping(importer: EntityImporter, header: readonly string[], customTypes: Readonly<Record<string, string>>): ImportMapping {
  const mapping: Record<string, ColumnSpec> = {};
  for (const column of header) if (column && !isSystemColumn(importer, column)) mapping[column] = { column, ...kindSpec(importer.entity, column, customTypes, importer.shape) };
  return mapping;
}

/** A row object without a mapping: dotted keys set their path (`custom.vatId`, `externalRefs.shop`), system keys are left out. */
export function pathRow(importer: EntityImporter, values: SourceRow): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    try {
      if (!isSystemColumn(importer, key)) setPath(input, key, withoutDerived(key, value));
    } catch {
      // A path under a value the row gives too (`custom` and `custom.vatId`): kept whole, for the API to refuse.
      input[key] = value;
    }
  }
  return input;
}
