import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import { setPath, type ColumnSpec, type ImportMapping, type SourceRow, type ValueKind } from './column-mapping.js';
import { isFieldPath } from './field-paths.js';
import type { EntityImporter } from './import-entities.js';

/** How a cell is read by its field's type: a stored field's (`tags`, `value.amount`) or a custom field's; others as text. */
const KINDS: Readonly<Record<string, ValueKind>> = { number: 'number', boolean: 'boolean', 'string[]': 'list', multiselect: 'list' };

const storedFields = (entity: string): Readonly<Record<string, string>> => CRM_STORAGE_SCHEMA.entities.find((e) => e.name === entity)!.fields;

/**
 * Whether a column (or row key) without a mapping is one crmkit writes itself and an import leaves alone:
 * the record's bookkeeping (`version`, `createdAt`, `updatedAt`, `tenantId`) or a stored field no input takes
 * (`weightedValue.amount`, `externalKeys`) — what an export without a mapping holds beside the fields the import reads.
 */
export function isSystemColumn(importer: EntityImporter, path: string): boolean {
  const head = path.split('.')[0]!;
  return !isFieldPath(importer.shape, path) && (['id', 'tenantId', 'version'].includes(head) || Object.keys(storedFields(importer.entity)).some((f) => f.split('.')[0] === head));
}

/**
 * The mapping a CSV file without one stands for: each column a field path (`name`, `custom.vatId`,
 * `externalRefs.shop`, `value.amount`) read as its field's type (`customTypes`: custom field key → type);
 * system columns are left out.
 */
export function headerMapping(importer: EntityImporter, header: readonly string[], customTypes: ReadonlyMap<string, string>): ImportMapping {
  const stored = storedFields(importer.entity);
  const mapping: Record<string, ColumnSpec> = {};
  for (const column of header) {
    const as = KINDS[(column.startsWith('custom.') ? customTypes.get(column.slice(7)) : stored[column]) ?? ''];
    if (column && !isSystemColumn(importer, column)) mapping[column] = as ? { column, as } : { column };
  }
  return mapping;
}

/** A row object without a mapping: dotted keys set their path (`custom.vatId`, `externalRefs.shop`), system keys are left out. */
export function pathRow(importer: EntityImporter, values: SourceRow): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    try {
      if (!isSystemColumn(importer, key)) setPath(input, key, value);
    } catch {
      // A path under a value the row gives too (`custom` and `custom.vatId`): kept whole, for the API to refuse.
      input[key] = value;
    }
  }
  return input;
}
