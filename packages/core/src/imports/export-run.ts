import { checkExportMapping } from './export-mapping-check.js';
import { checkLocale } from './locale-check.js';
import { isCrmError, validationError } from '../errors/crm-error.js';
import { csvLine, csvRowLine, type ReportRow } from '../domain/analytics/csv.js';
import type { Crm } from '../crm/crm.js';
import type { CrmContext } from '../crm/context.js';
import { runRead } from '../crm/operation.js';
import { readCallerInput } from '../crm/parse-input.js';
import type { ListFilter, SortSpec } from '../query/query-spec.js';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import { specOf, unmapRecord, type CellOptions, type ImportMapping } from './column-mapping.js';
import { kindSpec, kindSpecs } from './field-columns.js';
import { IMPORTERS, type EntityImporter, type ImportEntity } from './import-entities.js';

/** The entities an export reads, by the service that lists them. */
const SERVICES = { contact: 'contacts', company: 'companies', lead: 'leads', deal: 'deals', activity: 'activities', task: 'tasks' } as const;
export type ExportEntity = keyof typeof SERVICES;

/** Index and access copies crmkit keeps beside the fields (they repeat them): an export without a mapping never writes them. */
const INTERNAL = new Set(['searchKeys', 'shareKeys', 'parentOwner', 'parentShareKeys', 'tenantId', 'externalKeys', 'participantContactIds']);
/** Inputs that are no stored field of their own (a deal's `exchangeRate` converts, its `nextStep` makes a task) or have their own columns. */
const INPUT_ONLY = new Set(['id', 'version', 'custom', 'externalRefs', 'exchangeRate', 'nextStep']);
const CUSTOMIZABLE = new Set(['contact', 'company', 'lead', 'deal']);

/**
 * The columns of an export without a mapping, each a field path the import reads back: `id`, `version`,
 * the stored fields (`value.amount`, `value.currency`), the other fields of the input (`notes`, `lineItems`),
 * `custom.<key>` per defined custom field (money as `custom.<key>.amount` in minor units and
 * `custom.<key>.currency`) and `externalRefs` (`system:id` keys).
 */
function plainColumns(entity: ExportEntity, custom: readonly { key: string; type: string }[]): string[] {
  const stored = Object.keys(CRM_STORAGE_SCHEMA.entities.find((e) => e.name === entity)!.fields);
  const shape = (IMPORTERS[entity as ImportEntity] as EntityImporter | undefined)?.shape ?? {};
  const inputs = Object.keys(shape).filter((k) => !INPUT_ONLY.has(k) && !stored.some((f) => f === k || f.startsWith(`${k}.`)));
  const customColumns = custom.flatMap((d) => (d.type === 'money' ? [`custom.${d.key}.amount`, `custom.${d.key}.currency`] : [`custom.${d.key}`]));
  return ['id', 'version', ...stored.filter((f) => !INTERNAL.has(f)), ...inputs, ...customColumns, ...(stored.includes('externalKeys') ? ['externalRefs'] : [])];
}

/** Options of `crm.export.run`. */
export interface ExportOptions {
  readonly entity: ExportEntity;
  /** The records: any list filter (`where` builders), as `crm.<entity>.list` takes it; default all. */
  readonly where?: ListFilter;
  readonly orderBy?: readonly SortSpec[];
  /**
   * The import's mapping: field → column. Without it: `id`, `version`, every stored field and input field by
   * path (`value.amount`, `custom.<key>`, money custom fields as `.amount`/`.currency`, `externalRefs` as
   * `system:id` keys, line items as JSON), what an import without a mapping reads back; never the look-up
   * and access copies (`externalKeys`, `searchKeys`, `shareKeys`).
   */
  readonly mapping?: ImportMapping;
  /** `csv` (default) or `json` (an array of objects, column → value). */
  readonly format?: 'csv' | 'json';
  /**
   * Locale of the CSV's numbers (default `en-US`): with or without a mapping, numbers (money amounts in minor units
   * too) are written in its notation (`1,5` in `de-DE`), and dates of mapped `as` columns; what the import reads back in the same locale.
   */
  readonly locale?: string;
  /** CSV separator (default `,`) and byte order mark (default false), as `toCsv`. */
  readonly separator?: ',' | ';' | '\t' | '|';
  readonly bom?: boolean;
  /** Records per read, 1–1000 (default 500): memory stays bounded by one page. */
  readonly pageSize?: number;
}

/** A streamed export: iterate it (`for await`) or pipe `toReadableStream()` to a response or file. */
export interface ExportStream extends AsyncIterable<string> {
  toReadableStream(): ReadableStream<string>;
}

const OPTION_KEYS = new Set(['entity', 'where', 'orderBy', 'mapping', 'format', 'locale', 'separator', 'bom', 'pageSize']);

function checkExport(options: ExportOptions): void {
  const fail = (path: string, message: string, code = 'invalid_value') => {
    throw validationError('export.run', [{ path: [path], code, message }]);
  };
  if (typeof options !== 'object' || options === null) fail('', 'must be an options object');
  // A typo (`filter` for `where`) would export the whole table.
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) fail(key, `unknown option "${key.slice(0, 50)}"`, 'unknown_field');
  if (options.locale !== undefined) checkLocale(options.locale, 'export.run');
  if (!Object.prototype.hasOwnProperty.call(SERVICES, options.entity)) fail('entity', `must be one of ${Object.keys(SERVICES).join(', ')}`);
  if (options.format !== undefined && options.format !== 'csv' && options.format !== 'json') fail('format', 'must be csv or json');
  if (options.separator !== undefined && ![',', ';', '\t', '|'].includes(options.separator)) fail('separator', 'must be ",", ";", "\\t" or "|"');
  if (options.bom !== undefined && typeof options.bom !== 'boolean') fail('bom', 'must be true or false', 'invalid_type');
  if (options.pageSize !== undefined && !(Number.isInteger(options.pageSize) && options.pageSize >= 1 && options.pageSize <= 1000)) fail('pageSize', 'must be an integer from 1 to 1000');
}

/**
 * Streams the records a list filter selects as CSV or JSON, page by page through the entity's own
 * `list` (so a view's read scope and field rules apply), cells written by the reports' CSV writer.
 */
export function exportRecords(crm: Crm, options: ExportOptions, ctx?: CrmContext): ExportStream {
  // The checks read every option: a throwing getter is the caller's VALIDATION. (Not copyInput: an export stores
  // nothing, so its column names may hold any character.)
  readCallerInput('export.run', () => {
    checkExport(options);
    // Refused at the call, not on the first read: every mapping check but `custom.<key>` names (they need a read).
    if (options.mapping !== undefined) checkExportMapping(options.entity, options.mapping);
  });
  const service = (crm as unknown as Record<string, { list(o: object): Promise<{ items: Record<string, unknown>[]; nextCursor?: string }> } | undefined>)[SERVICES[options.entity]];
  if (!service) throw validationError('export.run', [{ path: ['entity'], code: 'feature_required', message: `exporting ${options.entity} records needs the feature that keeps them` }]);
  const format = options.format ?? 'csv';
  const separator = options.separator ?? ',';
  const locale = options.locale ?? 'en-US';
  let fields: string[] = [];
  let mapping = options.mapping;
  let columns: string[] = [];
  const columnsOf = () => mapping ? [...new Set(Object.values(mapping).flatMap((raw) => { const s = specOf(raw); return s.value !== undefined ? [] : [...(s.column !== undefined ? [s.column] : []), ...(s.columns ?? []), ...(s.currencyColumn !== undefined ? [s.currencyColumn] : [])]; }))] : fields;
  /** How each mapped field without `as` is written: by its kind (`kindSpec`), as the import reads it back. */
  let cells: CellOptions = { locale };
  const toRow = (record: Record<string, unknown>): ReportRow => {
    // Without a mapping, each column is its field path, written by the one writer by its field's kind: numbers in `locale`.
    return unmapRecord(record, mapping ?? Object.fromEntries(fields.map((f) => [f, f])), cells);
  };
  /** A deal mapping's `lineItems.<field>` columns: one row per line item, the deal's cells repeated (what the import groups back). */
  let lineMapping: ImportMapping | undefined;
  let dealMapping: ImportMapping | undefined;
  const rowsOf = (record: Record<string, unknown>): ReportRow[] => {
    if (!lineMapping) return [toRow(record)];
    const deal = unmapRecord(record, dealMapping!, cells);
    const lines = (record.lineItems as Record<string, unknown>[] | undefined) ?? [];
    const currency = (record.currency ?? (record.value as { currency?: string } | undefined)?.currency) as string | undefined;
    const isMoney = (raw: ImportMapping[string] | undefined) => raw !== undefined && specOf(raw).as === 'money';
    // Line prices are minor units of the deal's currency: an `as: 'money'` column writes them as money.
    const priced = (line: Record<string, unknown>) => Object.fromEntries(Object.entries(line).map(([k, v]) => [k, typeof v === 'number' && isMoney(lineMapping![`lineItems.${k}`]) ? { amount: v, currency } : v]));
    if (!lines.length) return [{ ...deal, ...unmapRecord({}, lineMapping, cells) }];
    return lines.map((line) => ({ ...deal, ...unmapRecord({ ...record, lineItems: priced(line) }, lineMapping!, cells) }));
  };
  const plain = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).filter(([k]) => !INTERNAL.has(k)));

  async function* chunks(): AsyncGenerator<string> {
    let cursor: string | undefined;
    let first = true;
    // A view's export has no column for a field it may not read (not even an empty one).
    // `custom.<key>` columns need the tenant's definitions: checked on the first read (the rest was checked at the call).
    const customFields = (crm as unknown as { customFields?: { list(entity: string): Promise<{ key: string; type: string }[]> } }).customFields;
    let customTypes: Record<string, string> = {};
    if (mapping && Object.keys(mapping).some((p) => p.startsWith('custom.'))) {
      customTypes = Object.fromEntries((customFields ? await customFields.list(options.entity) : []).map((d) => [d.key, d.type]));
      checkExportMapping(options.entity, mapping, customTypes);
    }
    if (mapping) cells = { locale, typed: format === 'json', kinds: kindSpecs(options.entity, mapping, customTypes, (IMPORTERS[options.entity as ImportEntity] as EntityImporter | undefined)?.shape) };
    // A view that may not read the custom field definitions gets no custom columns (its JSON export has the values it may read).
    const definitions = () => customFields!.list(options.entity).catch((e: unknown) => (isCrmError(e, 'FORBIDDEN') ? [] : Promise.reject(e)));
    if (!mapping) {
      const custom = customFields && CUSTOMIZABLE.has(options.entity) ? await definitions() : [];
      fields = plainColumns(options.entity, custom);
      const types = Object.fromEntries(custom.map((d) => [d.key, d.type]));
      cells = { locale, kinds: Object.fromEntries(fields.map((f) => [f, kindSpec(options.entity, f, types, (IMPORTERS[options.entity as ImportEntity] as EntityImporter | undefined)?.shape)])) };
    }
    const guard = ctx ? await runRead(ctx, async (op) => op.guard) : undefined;
    if (guard) {
      fields = fields.filter((f) => guard.readable(options.entity, f));
      if (mapping) mapping = Object.fromEntries(Object.entries(mapping).filter(([field]) => guard.readable(options.entity, field)));
    }
    if (mapping && options.entity === 'deal' && Object.keys(mapping).some((f) => f.startsWith('lineItems.'))) {
      const entries = Object.entries(mapping);
      lineMapping = Object.fromEntries(entries.filter(([f]) => f.startsWith('lineItems.')));
      dealMapping = Object.fromEntries(entries.filter(([f]) => !f.startsWith('lineItems.')));
    }
    columns = columnsOf();
    yield format === 'csv' ? `${options.bom ? '\uFEFF' : ''}${csvLine(columns, separator)}\r\n` : '[';
    do {
      const page = await service!.list({ ...(options.where ? { where: options.where } : {}), ...(options.orderBy ? { orderBy: options.orderBy } : {}), limit: options.pageSize ?? 500, ...(cursor ? { cursor } : {}) });
      let text = '';
      for (const record of page.items) {
        if (format === 'csv') for (const row of rowsOf(record)) text += `${csvRowLine(row, columns, separator)}\r\n`;
        else for (const row of mapping ? rowsOf(record) : [plain(record)]) {
          text += `${first ? '\n' : ',\n'}${JSON.stringify(row)}`;
          first = false;
        }
      }
      if (text) yield text;
      cursor = page.nextCursor;
    } while (cursor);
    if (format === 'json') yield first ? ']' : '\n]';
  }

  return {
    [Symbol.asyncIterator]: () => chunks(),
    toReadableStream() {
      const it = chunks();
      return new ReadableStream<string>({
        async pull(controller) {
          const { done, value } = await it.next();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        async cancel() {
          await it.return(undefined);
        },
      });
    },
  };
}
