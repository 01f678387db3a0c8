import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import { checkMappingSpecs } from './mapping-check.js';
import { specOf, type ColumnSpec } from './column-mapping.js';
import { LINE_FIELDS } from './line-item-rows.js';
import { isFieldPath } from './field-paths.js';
import { checkExportKinds } from './field-kinds.js';
import { IMPORTERS, type EntityImporter, type ImportEntity } from './import-entities.js';

/** Bookkeeping fields no mapping names (access copies and search keys). */
const INTERNAL = new Set(['searchKeys', 'shareKeys', 'parentOwner', 'parentShareKeys', 'tenantId', 'externalKeys', 'participantContactIds']);

/**
 * Checks an export mapping as the import checks its own: every spec's shape, and every field path a
 * field of the entity (`id`, a stored field or a path in one, `externalRefs.<system>`, `custom.<key>` of a
 * defined custom field, a deal's `lineItems.<field>`), so a typo (`emial`) fails with `VALIDATION` instead of an empty column;
 * each column written by one field; each `as` fitting its field (`checkExportKinds`). Without `custom` (the
 * tenant's custom fields, key → type) `custom.<key>` paths are left for a second call that has them.
 */
export function checkExportMapping(entity: string, mapping: Readonly<Record<string, unknown>>, custom?: Readonly<Record<string, string>>): void {
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) throw validationError('export.run', [{ path: ['mapping'], code: 'invalid_type', message: 'must map field paths to columns' }]);
  checkMappingSpecs(mapping, 'export.run');
  // Constants (`{ value }`) write no column: a mapping of only those would export an empty header and blank lines.
  if (!Object.values(mapping).some((raw) => specOf(raw as ColumnSpec).value === undefined)) throw validationError('export.run', [{ path: ['mapping'], code: 'invalid_value', message: 'map at least one field to a column' }]);
  const fields = CRM_STORAGE_SCHEMA.entities.find((e) => e.name === entity)!.fields;
  const issues: ValidationIssue[] = [];
  /** Column → the field whose value it holds; currency column → the first money field naming it. */
  const writers = new Map<string, string>();
  const currencies = new Map<string, string>();
  for (const path of Object.keys(mapping)) {
    const spec = specOf(mapping[path] as ColumnSpec);
    if (spec.value !== undefined) continue;
    // Two fields in one column would write "Ada ada@x.org", which no import splits again.
    // A currency column may be shared by money fields (a deal's value and its line prices are in the deal's currency), not by a field's value.
    const taken = (column: string, other: string | undefined) => {
      if (other !== undefined && other !== path) issues.push({ path: ['mapping', path], code: 'duplicate_column', message: `column "${column.slice(0, 50)}" is written by ${other.slice(0, 50)} already: give each field its own column` });
    };
    for (const column of [spec.column, ...(spec.columns ?? [])]) {
      if (column === undefined) continue;
      taken(column, writers.get(column) ?? currencies.get(column));
      writers.set(column, path);
    }
    if (spec.currencyColumn !== undefined) {
      taken(spec.currencyColumn, writers.get(spec.currencyColumn));
      if (!currencies.has(spec.currencyColumn)) currencies.set(spec.currencyColumn, path);
    }
    const [head, ...rest] = path.split('.');
    if (head === 'custom' && rest.length) {
      // A money field's parts (`custom.budget.amount`, `.currency`), as the import takes them.
      const money = rest.length > 1 && /^(amount|currency)$/.test(rest.at(-1)!) && custom?.[rest.slice(0, -1).join('.')] === 'money';
      if (custom && !money && !Object.hasOwn(custom, rest.join('.'))) issues.push({ path: ['mapping', path], code: 'unknown_field', message: `${entity} has no custom field "${rest.join('.').slice(0, 50)}"` });
      continue;
    }
    if (head === 'externalRefs' && rest.length === 1) continue;
    // A deal's `lineItems.<field>` columns export one row per line (the deal's cells repeated), as the import reads order lines.
    if (head === 'lineItems' && entity === 'deal' && rest.length === 1) {
      if (!LINE_FIELDS.includes(rest[0]!)) issues.push({ path: ['mapping', path], code: 'unknown_field', message: `a line item has ${LINE_FIELDS.join(', ')}` });
      continue;
    }
    // Stored fields are flattened (`value.amount`): `value` names the whole amount; a path under a stored scalar (`name.first`, `value.amount.x`) names nothing.
    // Every path the import reads exports too (an activity's subject, a deal's nextStep): the record's fields, not only the stored columns.
    const importer = IMPORTERS[entity as ImportEntity] as EntityImporter | undefined;
    const known = Object.keys(fields).some((f) => f === path || f.startsWith(`${path}.`)) || (importer !== undefined && isFieldPath(importer.shape, path));
    if (head !== 'id' && (!known || INTERNAL.has(head!))) issues.push({ path: ['mapping', path], code: 'unknown_field', message: `${entity} has no field "${path.slice(0, 50)}"` });
  }
  if (issues.length) throw validationError('export.run', issues);
  checkExportKinds(entity, custom ? mapping : Object.fromEntries(Object.entries(mapping).filter(([p]) => !p.startsWith('custom.'))), custom ?? {}, (IMPORTERS[entity as ImportEntity] as EntityImporter | undefined)?.shape);
}
