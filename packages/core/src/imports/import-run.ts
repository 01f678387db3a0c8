import { CrmError, isCrmError, notFound, validationError, type ValidationIssue } from '../errors/crm-error.js';
import { newRecordBase } from '../domain/records.js';
import { PARENT_TYPES } from '../domain/parent-access.js';
import type { Filter } from '../query/query-spec.js';
import type { CrmContext } from '../crm/context.js';
import type { Crm } from '../crm/crm.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { isRace } from '../crm/retry-concurrent.js';
import { parseId, readCallerInput } from '../crm/parse-input.js';
import type { RecordBase } from '../schema/record.js';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import { columnsOf, mapRow, type ImportMapping, type SourceRow } from './column-mapping.js';
import { claimedRefs } from './claimed-refs.js';
import { keepStoredSpacing } from './stored-spacing.js';
import { checkMappingSpecs } from './mapping-check.js';
import { isFieldPath } from './field-paths.js';
import { checkLocale } from './locale-check.js';
import { headerMapping, kindSpecs, pathRow } from './field-columns.js';
import { keyFoldOf, type PhoneIdentity } from './normalized-keys.js';
import { importerFor, type EntityImporter } from './import-entities.js';
import { LINE_FIELDS, MAX_GROUP_ROWS, mergeGroup, REQUIRED_LINE_FIELDS, type MappedRow } from './line-item-rows.js';
import type { CsvRecord, ImportCounts, ImportJob, ImportMode, ImportProgress, ImportReport, ImportRowReport, ImportRunOptions } from './import-types.js';

const CONTEXT = 'import.run';
/** Failures a row can have: checks every writer makes before its first write, so the chunk's other rows still commit. */
const ROW_FAILURES = new Set(['VALIDATION', 'NOT_FOUND', 'FORBIDDEN', 'RULE_VIOLATION', 'CONFLICT']);
const OPTION_KEYS = new Set(['entity', 'rows', 'stream', 'csv', 'mapping', 'mode', 'key', 'duplicates', 'locale', 'dryRun', 'chunkSize', 'report', 'expectedRows', 'onProgress', 'onChunk']);

const FINDER_ENTITIES = ['contact', 'company', 'lead'];
/** Stripes of an entity's finder lock (see runChunk). */
const STRIPES = 8;

/** Times a chunk runs again after a retryable `STORAGE` error (a deadlock) before the run stops with it. */
const STORAGE_RETRIES = 5;

/** Thrown inside a dry run's chunk to roll its transaction back. */
class DryRunRollback extends Error {}

/** Thrown inside a chunk whose rows hit a write conflict: the storage transaction is poisoned, so the chunk runs again without them. */
class ConflictRetry extends Error {}

/** A source row with its number and anything that made it unreadable. */
interface NumberedRow {
  readonly row: number;
  readonly values: SourceRow;
  readonly issues?: readonly ValidationIssue[];
  /** The row mapped (kept: grouping by key reads it first). */
  mapped?: MappedRow;
}

/** A row made ready outside the transaction: its parsed input and key, or its failure. */
interface Prepared {
  readonly row: number;
  readonly create?: Record<string, unknown>;
  readonly update?: Record<string, unknown>;
  /** The key as compared (`keyFoldOf`: an e-mail as one mailbox spelling, a phone number in E.164). */
  readonly keyValue?: string | number;
  /** The key as the row writes it. */
  readonly keyRaw?: string | number;
  /** The row's mapped external refs, for an update: added to the record's refs (none dropped). */
  readonly refs?: readonly ExternalRef[];
  /** The row's create-only fields (a deal's `stageKey`), for an update: they must be the record's. */
  readonly fixed?: Readonly<Record<string, unknown>>;
  readonly failure?: ImportRowReport;
  /** All rows of a deal's group of order lines (they share its outcome and id). */
  readonly rows?: readonly number[];
  /** A failed group: each row's report with its own problems. */
  readonly rowReports?: readonly ImportRowReport[];
}

interface ExternalRef {
  readonly system: string;
  readonly id: string;
}

/**
 * `patch` plus the record's refs with the row's refs added: a ref the record holds is left alone, a new id
 * joins the list (a record may hold several ids of one system, as after a merge); an import never drops a
 * ref (`externalRefs` on the API replaces the list). Unchanged refs are left out of the patch.
 */
function withMergedRefs(patch: Record<string, unknown>, current: RecordBase, refs: readonly ExternalRef[] | undefined): Record<string, unknown> {
  if (!refs?.length) return patch;
  const before = ((current as unknown as { externalRefs?: ExternalRef[] }).externalRefs ?? []).map((r) => ({ system: r.system, id: r.id }));
  const after = [...before];
  for (const ref of refs) if (!after.some((r) => r.system === ref.system && r.id === ref.id)) after.push({ system: ref.system, id: ref.id });
  // The API's limit: the row fails as an update giving these refs would.
  if (after.length > 20) fail(['externalRefs'], 'too_big', `must have at most 20 items (the record has ${before.length}, the row adds ${after.length - before.length})`);
  return after.length === before.length ? patch : { ...patch, externalRefs: after };
}

/**
 * Refuses `custom.<key>` columns naming no custom field the tenant defined for the entity (with the customFields()
 * feature; without it rows are checked as the API checks them). @returns the defined fields' types (key → type).
 */
async function checkCustomColumns(crm: Crm, entity: string, mapping: ImportMapping | undefined, at: 'mapping' | 'csv' = 'mapping'): Promise<Record<string, string>> {
  const customFields = (crm as unknown as { customFields?: { list(entity: string): Promise<{ key: string; type: string }[]> } }).customFields;
  const columns = Object.keys(mapping ?? {}).filter((f) => f.startsWith('custom.'));
  if (!customFields || !columns.length) return {};
  const types: Record<string, string> = Object.fromEntries((await customFields.list(entity)).map((d) => [d.key, d.type]));
  // A money field's parts (`custom.budget.amount`, `.currency`) are its columns in an export without a mapping.
  const defined = (key: string) => Object.hasOwn(types, key) || (/\.(amount|currency)$/.test(key) && types[key.replace(/\.[^.]+$/, '')] === 'money');
  const unknown = columns.filter((f) => !defined(f.slice('custom.'.length)));
  if (unknown.length) throw validationError(CONTEXT, unknown.map((f) => ({ path: [at, f], code: 'unknown_field', message: `${entity} has no custom field "${f.slice(7, 57)}"` })));
  return types;
}

function fail(path: (string | number)[], code: string, message: string): never {
  throw validationError(CONTEXT, [{ path, code, message }]);
}

interface Checked {
  readonly importer: EntityImporter;
  readonly mode: ImportMode;
  readonly mapping?: ImportMapping;
  readonly chunkSize: number;
  readonly locale: string;
  /** With `key: 'externalRef:<system>'`: the system whose id identifies a record. */
  readonly externalSystem?: string;
  /** `lineItems.<field>` columns: consecutive rows with one key are one deal's lines. */
  readonly lines: boolean;
}

/**
 * Checks the fields a mapping (`at: 'mapping'`) or a CSV header without one (`at: 'csv'`, columns as
 * field paths) fills, before a row is read: every path a field, the required fields and the key there.
 * @returns whether `lineItems.<field>` columns make consecutive rows one deal's order lines.
 */
function checkMappedFields(importer: EntityImporter, mode: ImportMode, mapping: ImportMapping, key: string | undefined, externalSystem: string | undefined, at: 'mapping' | 'csv'): boolean {
  const fill = at === 'mapping' ? 'map a column to it' : 'the file has no such column';
  // A create needs the entity's required fields: refuse a mapping that cannot fill them before reading a row.
  if (mode !== 'update') {
    const missing = importer.required.filter((f) => !(f in mapping));
    if (missing.length) throw validationError(CONTEXT, missing.map((f) => ({ path: [at, f], code: 'unmapped_required', message: `${importer.entity} needs ${f}: ${fill}` })));
  }
  if (externalSystem !== undefined && !(`externalRefs.${externalSystem}` in mapping) && !('externalRefs' in mapping)) {
    fail([at, `externalRefs.${externalSystem}`], 'unmapped_required', `the key needs the ${externalSystem} id: ${fill}`);
  }
  if (key !== undefined && externalSystem === undefined && key !== 'id' && !(key in mapping)) fail([at, key], 'unmapped_required', `the key ${key}: ${fill}`);
  // A typo (`nmae`) is refused before a row is read, not reported on every row (`custom.<key>` is checked against the tenant's definitions in runImport).
  // A path under a scalar (`name.first`, `title.x`) is refused too: no row could fill it (building the input would fail mid-run).
  const unknown = Object.keys(mapping).filter((f) => !isFieldPath(importer.shape, f));
  if (unknown.length) throw validationError(CONTEXT, unknown.map((f) => ({ path: [at, f], code: 'unknown_field', message: `${importer.entity} has no field "${f.slice(0, 50)}" (its fields: ${[...importer.fields].join(', ')})` })));
  const lineColumns = Object.keys(mapping).filter((f) => f.startsWith('lineItems.'));
  for (const f of lineColumns) {
    if (importer.entity !== 'deal' || 'lineItems' in mapping) fail([at, f], 'invalid_value', 'lineItems.<field> columns are for deals, instead of a lineItems column');
    if (!LINE_FIELDS.includes(f.slice(10))) fail([at, f], 'unknown_field', `a line item has ${LINE_FIELDS.join(', ')}`);
  }
  if (lineColumns.length) {
    const missing = REQUIRED_LINE_FIELDS.find((f) => !lineColumns.includes(`lineItems.${f}`));
    if (missing) fail([at, `lineItems.${missing}`], 'unmapped_required', `a line item needs ${missing}: ${fill}`);
    if (key === undefined) fail(['key'], 'required', 'line-item rows are grouped into deals by the key (externalRef:<system> or a field such as the order number)');
  }
  return lineColumns.length > 0;
}

/** Checks the options' shape and their combination (before anything is read or written). */
function checkOptions(options: ImportRunOptions, ctx: CrmContext, crm: Crm): Checked {
  if (typeof options !== 'object' || options === null) fail([], 'invalid_type', 'must be an options object');
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) fail([key], 'unknown_field', `unknown option "${key.slice(0, 50)}"`);
  const mode = options.mode ?? 'create';
  if (!['create', 'update', 'upsert'].includes(mode)) fail(['mode'], 'invalid_value', 'must be create, update or upsert');
  const importer = importerFor(options.entity, mode);
  const sources = ['rows', 'stream', 'csv'].filter((k) => options[k as keyof ImportRunOptions] !== undefined);
  if (sources.length !== 1) fail([], 'invalid_value', 'give exactly one of rows, stream and csv');
  // The source's type is checked here, not where it is read: a wrong one would be a TypeError mid-run.
  const iterable = (v: unknown, sym: symbol) => typeof v === 'object' && v !== null && typeof (v as Record<symbol, unknown>)[sym] === 'function';
  if (options.rows !== undefined && (typeof options.rows === 'string' || !iterable(options.rows, Symbol.iterator))) fail(['rows'], 'invalid_type', 'must be an array (or iterable) of row objects');
  if (options.csv !== undefined && !iterable(options.csv, Symbol.asyncIterator)) fail(['csv'], 'invalid_type', 'must be a csvSource(…) (for text, bytes or a file: csvSource(input))');
  if (options.stream !== undefined && !iterable(options.stream, Symbol.asyncIterator) && typeof (options.stream as { getReader?: unknown } | null)?.getReader !== 'function') {
    fail(['stream'], 'invalid_type', 'must be a ReadableStream or an async iterable of row objects');
  }
  if (options.dryRun !== undefined && typeof options.dryRun !== 'boolean') fail(['dryRun'], 'invalid_type', 'must be true or false');
  if (options.entity === 'activity' && !('activities' in crm)) fail(['entity'], 'feature_required', 'importing activities needs the activities() feature');
  if (options.key !== undefined && typeof options.key !== 'string') fail(['key'], 'invalid_type', 'must be a field name: id, externalRef:<system> or a stored field (email, domain, …)');
  if (options.expectedRows !== undefined && !(Number.isInteger(options.expectedRows) && options.expectedRows >= 0)) fail(['expectedRows'], 'invalid_value', 'must be a whole number of rows');
  if (mode !== 'create' && options.key === undefined) fail(['key'], 'required', `mode ${mode} needs a key: the field that identifies a record (email, id, …)`);
  const externalSystem = typeof options.key === 'string' && options.key.startsWith('externalRef:') ? options.key.slice('externalRef:'.length) : undefined;
  if (externalSystem !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(externalSystem)) fail(['key'], 'invalid_value', 'externalRef:<system> names a system of 1–64 letters, digits, ".", "_" or "-"');
  if (options.key !== undefined && externalSystem === undefined) {
    const fields = CRM_STORAGE_SCHEMA.entities.find((e) => e.name === importer.entity)!.fields;
    if (typeof options.key !== 'string' || (options.key !== 'id' && !Object.prototype.hasOwnProperty.call(fields, options.key)) || fields[options.key] === 'string[]') {
      fail(['key'], 'invalid_value', `must be id, externalRef:<system> or a stored field of ${importer.entity} with one value (email, name, domain, …)${options.key.startsWith('custom.') ? '; custom fields are not keys (nothing keeps them unique): key on externalRef:<system>' : ''}`);
    }
  }
  // Only the duplicates feature indexes phone numbers by identity: without it a stored number in another spelling would go unfound.
  if (options.key === 'phone' && !('duplicates' in crm)) fail(['key'], 'feature_required', 'a phone key needs the duplicates() feature (it finds a number in any spelling)');
  if (options.duplicates !== undefined) {
    const d = options.duplicates;
    if (typeof d !== 'object' || d === null || !['skip', 'update', 'flag'].includes(d.action)) fail(['duplicates', 'action'], 'invalid_value', 'must be skip, update or flag');
    if (d.minScore !== undefined && !(typeof d.minScore === 'number' && d.minScore >= 0 && d.minScore <= 1)) fail(['duplicates', 'minScore'], 'invalid_value', 'must be from 0 to 1');
    if (!('duplicates' in crm)) fail(['duplicates'], 'feature_required', 'duplicate handling uses the duplicates() feature\'s finder');
    if (!FINDER_ENTITIES.includes(importer.entity)) fail(['duplicates'], 'invalid_value', 'the duplicates finder knows leads, contacts and companies');
    if (mode === 'update') fail(['duplicates'], 'invalid_value', 'mode update changes only records found by key');
  }
  const chunkSize = options.chunkSize ?? 500;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 10_000) fail(['chunkSize'], 'invalid_value', 'must be an integer from 1 to 10000');
  const locale = options.locale ?? 'en-US';
  checkLocale(locale, CONTEXT);
  for (const k of ['onProgress', 'onChunk'] as const) if (options[k] !== undefined && typeof options[k] !== 'function') fail([k], 'invalid_type', 'must be a function');
  if (options.report !== undefined && !['all', 'problems', 'none'].includes(options.report)) fail(['report'], 'invalid_value', 'must be all, problems or none');
  const mapping = options.mapping;
  if (mapping !== undefined) {
    if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) fail(['mapping'], 'invalid_type', 'must map field paths to columns');
    checkMappingSpecs(mapping, CONTEXT);
  }
  const lines = mapping ? checkMappedFields(importer, mode, mapping, options.key, externalSystem, 'mapping') : false;
  return { importer, mode, mapping, chunkSize, locale, externalSystem, lines };
}

/** Every source as numbered rows; a CSV file's header is checked against the mapping (or as one) before the first row. */
async function* numberedRows(options: ImportRunOptions, mapping: ImportMapping | undefined, fromHeader: (header: readonly string[]) => Promise<ImportMapping>): AsyncGenerator<NumberedRow> {
  let row = 0;
  if (options.csv) {
    let checked = false;
    for await (const batch of options.csv) {
      // Anything but a csvSource (a Node stream, Blob.stream(), chunks of text) yields no batches of records.
      if (typeof batch !== 'object' || batch === null || !Array.isArray((batch as { header?: unknown }).header) || !Array.isArray((batch as { records?: unknown }).records)) {
        fail(['csv'], 'invalid_type', 'must be a csvSource(…): wrap a file, stream, bytes or text in csvSource(input) from @crmkit/core/csv');
      }
      if (!checked) {
        checked = true;
        const header = new Set(batch.header);
        // Without a mapping the columns are field paths: checked as a mapping is, before the first row (and the job).
        mapping ??= await fromHeader(batch.header);
        const missing = mapping ? columnsOf(mapping).filter((c) => !header.has(c)) : [];
        if (missing.length) throw validationError(CONTEXT, missing.map((c) => ({ path: ['csv', c], code: 'missing_column', message: `the file has no column "${c.slice(0, 100)}" (its columns: ${batch.header.slice(0, 30).join(', ')})` })));
      }
      for (const record of batch.records as readonly CsvRecord[]) yield { row: ++row, values: record.values, ...(record.issues ? { issues: record.issues } : {}) };
    }
    return;
  }
  if (options.rows) {
    for (const values of options.rows) yield { row: ++row, values };
    return;
  }
  const stream = options.stream!;
  if (typeof (stream as ReadableStream).getReader === 'function' && !(Symbol.asyncIterator in stream)) {
    const reader = (stream as ReadableStream<SourceRow>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield { row: ++row, values: value };
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const values of stream as AsyncIterable<SourceRow>) yield { row: ++row, values };
}

/** A conflict as the row's issue: a taken external ref at its column (`externalRefs.<system>`), not the stored index (the message names the ref: `uniqueConflict`). */
function refConflict(key: { field: string; value: string } | undefined, e: CrmError): ValidationIssue {
  const path = key?.field === 'externalKeys' ? ['externalRefs', key.value.slice(0, key.value.indexOf(':'))] : [];
  return { path, code: e.code.toLowerCase(), message: e.message };
}

function rowFailure(row: number, error: unknown): ImportRowReport {
  const e = error as CrmError;
  const details = e.details as unknown as Record<string, unknown>;
  const issues: readonly ValidationIssue[] =
    e.code === 'VALIDATION'
      ? (details.issues as ValidationIssue[])
      : e.code === 'RULE_VIOLATION'
        ? (details.violations as { rule: string; message: string }[]).map((v) => ({ path: [], code: v.rule, message: v.message }))
        : [refConflict(details.key as { field: string; value: string; heldBy?: string } | undefined, e)];
  return { row, outcome: 'failed', error: e.code, issues };
}

/** Every row of `entity` a filter selects, page by page. */
async function readAll(op: Operation, entity: string, filter: Filter | undefined): Promise<RecordBase[]> {
  const out: RecordBase[] = [];
  let after: string | undefined;
  do {
    const page = await op.query<RecordBase>(entity, { ...(filter ? { filter } : {}), sort: [{ field: 'id' }], limit: 1000, ...(after ? { after } : {}) });
    out.push(...page.rows);
    after = page.nextCursor;
  } while (after);
  return out;
}

/** The duplicates feature's reading of phone numbers in this tenant: the phone key it indexes a record under. */
async function phoneIdentity(op: Operation): Promise<PhoneIdentity> {
  const finder = op.ctx.hooks.duplicates!;
  const identity = await finder.identity(op);
  return (phone, country) => finder.keys('person', { phone, country }, identity).find((k) => k.startsWith('phone:'))?.slice(6);
}

const keyText = (value: unknown) => (typeof value === 'string' ? value : typeof value === 'number' ? value : undefined);

/** Runs (or resumes, with `jobId`) an import. A resume runs the run's checks: its `VALIDATION` errors name `import.resume`. */
export function runImport(ctx: CrmContext, crm: Crm, options: ImportRunOptions, jobId?: string): Promise<ImportReport> {
  return jobId === undefined ? importRows(ctx, crm, options) : importRows(ctx, crm, options, jobId).catch((e: unknown) => {
    throw isCrmError(e, 'VALIDATION') && e.message.startsWith(`Invalid input to ${CONTEXT}:`) ? validationError('import.resume', e.details.issues) : e;
  });
}

async function importRows(ctx: CrmContext, crm: Crm, options: ImportRunOptions, jobId?: string): Promise<ImportReport> {
  // Options hold callbacks and streams, so they are not copied: a throwing getter is VALIDATION, not a crash.
  const checked = readCallerInput(CONTEXT, () => checkOptions(options, ctx, crm));
  const { importer, mode, chunkSize, locale, externalSystem } = checked;
  let { mapping, lines } = checked;
  const dryRun = options.dryRun === true;
  const keep = options.report ?? 'all';
  const key = options.key;
  /** E-mail keys compare as one mailbox spelling (`foldEmail`), domains canonical, phones by E.164 as the finder reads them (in the file, against stored records, in the keyed locks). */
  const keyFold = keyFoldOf(key, key === 'phone' ? await runRead(ctx, phoneIdentity) : undefined);
  const folds = keyFold !== undefined;
  const fold = (v: string | number, of?: Readonly<Record<string, unknown>>): string | number => (keyFold ? keyFold.fold(v, of) : v);
  /** A key no unique index guards (any stored field: id and external refs are unique in storage). */
  const unguarded = key !== undefined && key !== 'id' && externalSystem === undefined;
  // A key is a filter on its field: a view may key only on fields it may read, or "already exists"
  // and "not found" would tell it a hidden value (as list refuses filtering on it).
  if (key !== undefined && externalSystem === undefined) await runRead(ctx, async (op) => op.guard?.checkReadFields(importer.entity, [key], 'import.run'));
  /** How each mapped column without `as` is read: by its field's kind (`kindSpec`), as the export writes it. */
  const kinds = mapping && kindSpecs(importer.entity, mapping, await checkCustomColumns(crm, importer.entity, mapping), importer.shape);
  /** A CSV file without a mapping: its header as the mapping of field paths (`custom.<key>` read as its definition's type). */
  const fromHeader = async (header: readonly string[]): Promise<ImportMapping> => {
    // A column without a name names no field: refused as an unknown one is, not dropped with its data.
    const unnamed = header.flatMap((c, i) => (c ? [] : [i + 1]));
    if (unnamed.length) fail(['csv', ''], 'unknown_field', `column ${unnamed.join(', ')} of the header has no name: name it or give a mapping`);
    const customFields = (crm as unknown as { customFields?: { list(entity: string): Promise<{ key: string; type: string }[]> } }).customFields;
    const derived = headerMapping(importer, header, Object.fromEntries((customFields && header.some((c) => c.startsWith('custom.')) ? await customFields.list(importer.entity) : []).map((d) => [d.key, d.type])));
    lines = checkMappedFields(importer, mode, derived, key, externalSystem, 'csv');
    await checkCustomColumns(crm, importer.entity, derived, 'csv');
    return (mapping = derived);
  };
  let job: ImportJob | undefined;
  /** The mapping as a job keeps it (functions by name only): a resume must bring the same. */
  const mappingPrint = mapping ? JSON.stringify(mapping, (_k, v: unknown) => (typeof v === 'function' ? `ƒ${v.name}` : v)) : undefined;
  // The rest of what decides how rows are read and written (callbacks, report and expectedRows only tell about the run).
  const settings = JSON.stringify([options.duplicates && [options.duplicates.action, options.duplicates.minScore ?? 0.8], !!options.csv]);
  if (jobId !== undefined) {
    const id = parseId(jobId, 'import.resume', 'jobId');
    job = await runRead(ctx, async (op) => visibleJob(op, await op.get<ImportJob>('importJob', id)));
    if (!job) throw notFound('importJob', id);
    if (job.status === 'completed') fail(['jobId'], 'invalid_value', `import job ${id} is completed; start a new run`);
    // Another locale or mapping would read the rest of the file differently from the rows already committed.
    if (job.locale !== undefined && (job.locale !== locale || job.mapping !== mappingPrint)) {
      fail(['jobId'], 'invalid_value', `resume with the job's locale (${job.locale}) and mapping`);
    }
    if (job.entity !== importer.entity || job.mode !== mode || job.key !== key || job.chunkSize !== chunkSize || (job.settings !== undefined && job.settings !== settings)) {
      fail(['jobId'], 'invalid_value', `resume with the job's settings: entity ${job.entity}, mode ${job.mode}, key ${job.key ?? '(none)'}, chunkSize ${job.chunkSize}, [duplicates, csv] ${job.settings ?? '(any)'}`);
    }
  }
  const resumedFrom = job?.rowsDone ?? 0;
  const counts = { created: 0, updated: 0, skipped: 0, failed: 0 };
  const reports: ImportRowReport[] = [];
  /** Key value → the row that had it first: a second row with the same key fails (`duplicate_key`). */
  const seen = new Map<string | number, number>();
  const started = ctx.clock.now();
  let rowsDone = resumedFrom;
  let chunks = job?.chunksDone ?? 0;
  const total = options.expectedRows ?? (Array.isArray(options.rows) ? options.rows.length : undefined);

  const mapped = (source: NumberedRow): MappedRow =>
    (source.mapped ??= source.issues?.length
      ? { row: source.row, input: {}, issues: source.issues }
      : typeof source.values !== 'object' || source.values === null
        ? { row: source.row, input: {}, issues: [{ path: [], code: 'invalid_type', message: 'a row must be an object of column → value' }] }
        : { row: source.row, ...(mapping ? mapRow(source.values, mapping, { locale, csv: options.csv !== undefined, ...(kinds ? { kinds } : {}) }) : { input: pathRow(importer, source.values), issues: [] }) });
  /** The key of a row of order lines, as compared (`undefined` when empty or unreadable). */
  const groupKey = (source: NumberedRow): string | undefined => {
    const { input } = mapped(source);
    const refs = input.externalRefs as Record<string, unknown> | { system: string; id: unknown }[] | undefined;
    const v = externalSystem === undefined ? input[key!] : Array.isArray(refs) ? refs.find((r) => r?.system === externalSystem)?.id : refs?.[externalSystem];
    // A ref column read `as: 'list'` holds the system's ids: the first is the key (as `prepare` takes it).
    const t = keyText(Array.isArray(v) ? v[0] : v);
    return t === undefined || t === '' ? undefined : String(fold(t, input));
  };

  /** A deal from a group of order-line rows; a failed group reports each row's own problems (`group_failed` for the others). */
  const prepareGroup = (group: readonly NumberedRow[]): Prepared => {
    if (!lines) return prepare(mapped(group[0]!));
    const rows = group.map((s) => s.row);
    const merged = mergeGroup(group.map(mapped));
    const p = prepare({ row: rows[0]!, input: merged.input, issues: [] });
    if (!merged.issues.size && !p.failure && groupKey(group[0]!) !== undefined) return { ...p, rows };
    const add = (row: number, issue: ValidationIssue) => merged.issues.set(row, [...(merged.issues.get(row) ?? []), issue]);
    if (groupKey(group[0]!) === undefined) for (const row of rows) add(row, { path: [key!], code: 'required', message: `the key ${key} is empty: it names the deal a line belongs to` });
    // Problems of a line belong to its row; those of the deal to every row.
    else if (!merged.issues.size) for (const issue of p.failure!.issues ?? []) {
      const [head, i, ...rest] = issue.path;
      if (head === 'lineItems' && typeof i === 'number') add(merged.lineRows[i]!, { ...issue, path: ['lineItems', ...rest] });
      else for (const row of rows) add(row, issue);
    }
    const rowReports = rows.map((row): ImportRowReport => ({ row, outcome: 'failed', error: 'VALIDATION', issues: merged.issues.get(row) ?? [{ path: [], code: 'group_failed', message: `another row of this deal (rows ${rows[0]}–${rows.at(-1)}) failed` }] }));
    return { row: rows[0]!, rows, failure: rowReports[0]!, rowReports };
  };

  const prepare = ({ row, input, issues }: MappedRow): Prepared => {
    // `externalRefs.<system>` columns map to the refs list the API takes: { shop: '10042' } → [{ system: 'shop', id: '10042' }]
    // (with `as: 'list'`, a cell '1,2' holds two ids of the system).
    const refs = input.externalRefs;
    if (refs && typeof refs === 'object' && !Array.isArray(refs)) input.externalRefs = Object.entries(refs).flatMap(([system, id]) => (Array.isArray(id) ? id : [id]).map((one: unknown) => ({ system, id: one })));
    // A failed row still holds its key: a later row with it fails (`duplicate_key`) rather than creating the record alone.
    const claim = (raw: string | number | undefined) => {
      const v = raw === undefined || raw === '' ? undefined : fold(raw, input);
      if (v !== undefined && v !== '' && !seen.has(v)) seen.set(v, row);
    };
    const rawKey = (parsed: Record<string, unknown> | undefined) => externalSystem !== undefined
      ? ((input.externalRefs as { system: string; id: unknown }[] | undefined)?.filter?.((r) => r?.system === externalSystem && keyText(r.id) !== undefined).map((r) => `${externalSystem}:${String(r.id)}`)[0])
      : key === undefined ? undefined : keyText(parsed?.[key] ?? input[key]);
    if (issues.length) {
      claim(rawKey(undefined));
      return { row, failure: { row, outcome: 'failed', error: 'VALIDATION', issues } };
    }
    let create: Record<string, unknown> | undefined;
    let update: Record<string, unknown> | undefined;
    let mappedRefs: ExternalRef[] | undefined;
    let fixed: Record<string, unknown> | undefined;
    const problems: ValidationIssue[] = [];
    if (mode !== 'update') {
      const parsed = importer.parseCreate(ctx, input);
      if (parsed.success) create = parsed.data;
      else problems.push(...parsed.issues);
    }
    if (mode !== 'create' && importer.parseUpdate) {
      // An update keeps the record's refs: the row's refs join the list (merged with the record found, in writeRow).
      const { id: _id, ...rest } = input;
      // Create-only fields (an exported deal's `pipelineId`, `stageKey`) are compared with the record found (in writeRow).
      const patch = Object.fromEntries(Object.entries(rest).filter(([f]) => !importer.createOnly.has(f)));
      const fixedFields = Object.entries(rest).filter(([f]) => importer.createOnly.has(f));
      if (fixedFields.length) fixed = Object.fromEntries(fixedFields);
      const parsed = importer.parseUpdate!(ctx, patch);
      if (parsed.success) {
        const { externalRefs, ...rest } = parsed.data;
        update = rest;
        if (Array.isArray(externalRefs)) mappedRefs = externalRefs as ExternalRef[];
      } else if (mode === 'update') problems.push(...parsed.issues);
    }
    if (problems.length) {
      claim(rawKey(undefined));
      return { row, failure: { row, outcome: 'failed', error: 'VALIDATION', issues: problems } };
    }
    const extra = { ...(mappedRefs ? { refs: mappedRefs } : {}), ...(fixed ? { fixed } : {}) };
    if (key === undefined) return { row, create, update, ...extra };
    const keyRaw = rawKey(create ?? update);
    const keyValue = keyRaw === undefined ? undefined : fold(keyRaw, create ?? update);
    if (keyValue === undefined || keyValue === '') {
      if (mode === 'create') return { row, create, update };
      return { row, failure: { row, outcome: 'failed', error: 'VALIDATION', issues: [{ path: [key], code: 'required', message: `the key ${key} is empty` }] } };
    }
    const first = seen.get(keyValue);
    if (first !== undefined && first !== row) {
      return { row, failure: { row, outcome: 'failed', error: 'VALIDATION', issues: [{ path: [key], code: 'duplicate_key', message: `row ${first} has the same ${key}` }] } };
    }
    seen.set(keyValue, row);
    return { row, create, update, keyValue, keyRaw: keyRaw!, ...extra };
  };

  /** Key values several records share (filled by lookup, anew in each run): an update by them would have to guess. */
  const ambiguous = new Set<string | number>();
  /** Records found by key, by key value (the principal's read scope applies: a hidden record is not found). */
  const lookup = async (op: Operation, prepared: readonly Prepared[]): Promise<Map<string | number, RecordBase>> => {
    const found = new Map<string | number, RecordBase>();
    ambiguous.clear();
    const values = [...new Set(prepared.filter((p) => !p.failure && p.keyValue !== undefined).map((p) => p.keyValue!))];
    if (key === undefined || values.length === 0) return found;
    if (externalSystem !== undefined) {
      for (let i = 0; i < values.length; i += 500) {
        const part = values.slice(i, i + 500) as string[];
        const { rows } = await op.query<RecordBase>(importer.entity, { filter: op.scoped(importer.entity, { op: 'containsAny', field: 'externalKeys', values: part }), limit: 1000 });
        for (const row of rows) for (const k of (row as unknown as { externalKeys?: string[] }).externalKeys ?? []) if (part.includes(k)) found.set(k, row);
      }
      return found;
    }
    if (key === 'id') {
      const rows = await op.getMany(importer.entity, values as string[]);
      rows.forEach((row) => row && (!op.guard || op.guard.canRead(importer.entity, row)) && found.set(row.id, row));
      return found;
    }
    // Key value → the records that have it, by id (an e-mail can be found by both queries below).
    const matches = new Map<string | number, Map<string, RecordBase>>();
    const take = (rows: readonly RecordBase[]) => {
      for (const row of rows) {
        const v = fold((row as unknown as Record<string, string | number>)[key]!, row as unknown as Record<string, unknown>);
        if (!values.includes(v)) continue;
        if (!matches.has(v)) matches.set(v, new Map());
        matches.get(v)!.set(row.id, row);
      }
    };
    const raw = folds ? [...new Set([...values, ...prepared.filter((p) => !p.failure && p.keyRaw !== undefined).map((p) => p.keyRaw!)])] : values;
    take(await readAll(op, importer.entity, op.scoped(importer.entity, { op: 'in', field: key, values: raw })));
    // E-mails compare as one mailbox spelling (case, NFC, IDNA): a stored "Ada@X.org" is found through its
    // duplicate-search key (the duplicates feature writes them), then compared folded;
    // a stored "+1 415 555 2671" through its E.164 key, then compared read in its own country.
    // Without that feature records have no search keys: only the row's spelling and its folded form are found.
    const identity = keyFold?.search && (await op.ctx.hooks.duplicates?.identity(op));
    if (identity) {
      const { kind, field } = keyFold.search!;
      const keys = [...new Set(values.flatMap((v) => op.ctx.hooks.duplicates!.keys(kind, { [field]: v }, identity).filter((k) => k.startsWith(`${field}:`))))];
      if (keys.length) take(await readAll(op, importer.entity, op.scoped(importer.entity, { op: 'containsAny', field: 'searchKeys', values: keys })));
    }
    for (const [v, rows] of matches) {
      const sorted = [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
      found.set(v, sorted[0]!);
      if (sorted.length > 1) ambiguous.add(v);
    }
    return found;
  };

  /**
   * The finder's matches for a row to create, read inside the chunk's transaction: it sees rows the
   * chunk wrote before (a file that repeats a client) and no writer can slip in between check and write.
   */
  const findMatches = async (op: Operation, p: Prepared): Promise<string[] | undefined> => {
    const finder = op.ctx.hooks.duplicates;
    if (!options.duplicates || !finder || p.failure || !p.create) return undefined;
    const c = p.create;
    // A company row is probed as a company (its name is the company name), as duplicates.find({ companyName, domain }).
    const company = importer.entity === 'company';
    const probe = Object.fromEntries(
      Object.entries({ name: company ? undefined : c.name, email: c.email, phone: c.phone, companyName: company ? c.name : c.companyName, domain: c.domain, website: c.website, country: c.country }).filter(([, v]) => typeof v === 'string' && v),
    );
    if (Object.keys(probe).length === 0) return undefined;
    const candidates = await finder.find(op, probe, { entities: [importer.entity as 'contact'], minScore: options.duplicates.minScore ?? 0.8, limit: 5 });
    return candidates.length ? candidates.map((m) => m.record.id) : undefined;
  };

  /** `duplicateOf`: the finder's matches, read in this run of the chunk's transaction (a re-run reads them again). */
  const writeRow = async (op: Operation, p: Prepared, existing: RecordBase | undefined, duplicateOf: string[] | undefined): Promise<ImportRowReport> => {
    if (p.failure) return p.failure;
    const action = options.duplicates?.action;
    if (existing) {
      if (mode === 'create') return { row: p.row, outcome: 'failed', error: 'VALIDATION', issues: [{ path: [key!], code: 'already_exists', message: `${importer.entity} ${existing.id} has this ${key}` }] };
      // An upsert of history (an activity) finds it logged already: left as it is.
      if (!importer.update) return { row: p.row, outcome: 'skipped', id: existing.id, reason: 'unchanged' };
      if (!p.update) return { row: p.row, outcome: 'failed', error: 'VALIDATION', issues: [{ path: [], code: 'invalid_value', message: 'the row cannot update a record' }] };
      const moved = Object.keys(p.fixed ?? {}).filter((f) => JSON.stringify(p.fixed![f]) !== JSON.stringify((existing as unknown as Record<string, unknown>)[f]));
      if (moved.length) return { row: p.row, outcome: 'failed', error: 'VALIDATION', issues: moved.map((f) => ({ path: [f], code: 'invalid_value', message: `${f} is set when a ${importer.entity} is created: an update keeps ${existing.id}'s${importer.entity === 'deal' && f === 'stageKey' ? ' (deals.move changes the stage)' : ''}` })) };
      const next = await importer.update!(op, existing.id, withMergedRefs(keepStoredSpacing(p.update, existing), existing, p.refs), CONTEXT);
      // Unchanged = no new version (an adapter may hand back a fresh copy of the same row, so identity says nothing).
      return next.version === existing.version ? { row: p.row, outcome: 'skipped', id: existing.id, reason: 'unchanged' } : { row: p.row, outcome: 'updated', id: next.id };
    }
    if (mode === 'update') return { row: p.row, outcome: 'failed', error: 'NOT_FOUND', issues: [{ path: [key!], code: 'not_found', message: `no ${importer.entity} has this ${key}` }] };
    const duplicates = duplicateOf?.length ? duplicateOf : undefined;
    if (duplicates && action === 'skip') return { row: p.row, outcome: 'skipped', id: duplicates[0]!, reason: 'duplicate', duplicateOf: duplicates };
    if (duplicates && action === 'update') {
      const { id: _id, externalRefs, ...patch } = p.create!;
      const parsed = importer.parseUpdate!(ctx, patch);
      if (!parsed.success) return { row: p.row, outcome: 'failed', error: 'VALIDATION', issues: parsed.issues };
      const target = await op.require<RecordBase>(importer.entity, duplicates[0]!);
      const next = await importer.update!(op, target.id, withMergedRefs(keepStoredSpacing(parsed.data, target), target, externalRefs as ExternalRef[] | undefined), CONTEXT);
      const unchanged = next.version === target.version;
      return { row: p.row, outcome: unchanged ? 'skipped' : 'updated', id: next.id, duplicateOf: duplicates, ...(unchanged ? { reason: 'unchanged' as const } : {}) };
    }
    const created = await importer.create(op, p.create!, CONTEXT, crm);
    return { row: p.row, outcome: 'created', id: created.id, ...(duplicates ? { duplicateOf: duplicates } : {}) };
  };

  const progress = (): ImportProgress => {
    const elapsed = ctx.clock.now() - started;
    const rate = elapsed > 0 ? ((rowsDone - resumedFrom) / elapsed) * 1000 : undefined;
    return {
      ...(job ? { jobId: job.id } : {}),
      rows: rowsDone,
      ...(total !== undefined ? { total } : {}),
      chunks,
      ...(rate !== undefined ? { rowsPerSecond: rate } : {}),
      ...(rate && total !== undefined ? { etaMs: Math.max(0, ((total - rowsDone) / rate) * 1000) } : {}),
    };
  };

  /** The job is stored when the first chunk is about to be written: a run refused earlier (a missing column) leaves nothing behind. */
  const startJob = async (): Promise<void> => {
    job = await runWrite(ctx, async (op) => {
      const created: ImportJob = {
        ...newRecordBase(op.newId('importJob'), op.tenantId, op.now),
        status: 'running',
        entity: importer.entity,
        mode,
        ...(key !== undefined ? { key } : {}),
        chunkSize,
        locale,
        ...(mappingPrint !== undefined ? { mapping: mappingPrint } : {}),
        settings,
        rowsDone: 0,
        chunksDone: 0,
        counts: { created: 0, updated: 0, skipped: 0, failed: 0 },
        ...(ctx.actor ? { startedBy: ctx.actor.userId } : {}),
      };
      return op.insert('importJob', created);
    });
  };

  /** A dry run's refs written by earlier (rolled back) chunks: the real run's storage would refuse them to another record. */
  const claims = claimedRefs();
  const refsOf = (p: Prepared): ExternalRef[] => [...((p.create?.externalRefs as ExternalRef[] | undefined) ?? []), ...(p.refs ?? [])];
  const writes = (r: ImportRowReport) => r.id !== undefined && r.outcome !== 'failed' && r.reason !== 'duplicate';
  const heldByEarlierChunk = (p: Prepared, r: ImportRowReport): ImportRowReport | undefined => {
    const held = writes(r) ? claims.holder(refsOf(p), r.id) : undefined;
    return held && { row: p.row, outcome: 'failed', error: 'CONFLICT', issues: [{ path: [], code: 'conflict', message: `external ref ${held.key} is held by the record of row ${held.row}` }] };
  };

  /** Chunks hold whole groups (a deal's order lines); `first`/`last` are the chunk's first and last source rows. */
  const runChunk = async (groups: readonly NumberedRow[][]): Promise<void> => {
    if (!job && !dryRun) await startJob();
    const first = groups[0]![0]!.row;
    // A run's stripe, from its job's random id (concurrent runs mostly hold different ones).
    const stripe = (job?.id.charCodeAt(job.id.length - 1) ?? 0) % STRIPES;
    const last = groups.at(-1)!.at(-1)!.row;
    const prepared = groups.map(prepareGroup);
    let results: ImportRowReport[] = [];
    /** Rows whose write conflicted (a taken external ref or unique value) in an earlier attempt at this chunk: they fail without writing. */
    const conflicted = new Map<number, ImportRowReport>();
    /** Of those, upsert rows whose key found no record at the time. */
    const missed = new Set<number>();
    /** One run of the chunk's transaction: all it learns is local or reset here, as `runWrite` may run it again. Returns the job as committed. */
    const work = async (op: Operation): Promise<ImportJob> => {
      results = [];
      // No unique index guards a key such as an e-mail, nor the finder's fuzzy matches: a concurrent import
      // (another process on PostgreSQL) could find nothing and create the same record. Keyed locks, taken
      // before the lookup, make such checks wait for each other. The finder's fuzzy matches cross every key: a run
      // with duplicates takes all stripes of the entity's lock, any other run creating its records one stripe, so
      // those wait for the finder (and it for them) yet not for each other.
      const locks = prepared.flatMap((p) => (unguarded && !p.failure && p.keyValue !== undefined ? [`${importer.entity}:${key}:${p.keyValue}`] : []));
      if (mode !== 'update' && FINDER_ENTITIES.includes(importer.entity)) for (let i = 0; i < STRIPES; i++) if (options.duplicates || i === stripe) locks.push(`${importer.entity}:duplicates:${i}`);
      if (locks.length) await op.tx.lockKeys(op.tenantId, locks);
      const existing = await lookup(op, prepared);
      // An update may change a record's owner, which takes its key (`Operation.update`): the chunk's keys in
      // one call (one order) first, so a write holding several of them (`lockRecords`) never waits in a circle with it.
      if (mode !== 'create' && existing.size && (PARENT_TYPES as readonly string[]).includes(importer.entity)) await op.tx.lockKeys(op.tenantId, [...existing.values()].map((r) => `${importer.entity}:${r.id}`));
      const fresh: CrmError[] = [];
      let retry = false;
      for (const p of prepared) {
        // A row whose key found nothing when its create conflicted, and finds a record now (a concurrent import
        // created it): it is an update this time, not a failure.
        if (missed.has(p.row) && p.keyValue !== undefined && existing.has(p.keyValue)) {
          missed.delete(p.row);
          conflicted.delete(p.row);
        }
        const known = conflicted.get(p.row);
        if (known) {
          results.push(known);
          continue;
        }
        if (mode !== 'create' && p.keyValue !== undefined && ambiguous.has(p.keyValue)) {
          results.push({ row: p.row, outcome: 'failed', error: 'VALIDATION', issues: [{ path: [key!], code: 'ambiguous_key', message: `several ${importer.entity} records have this ${key}: use a key only one record has (id, externalRef:<system>)` }] });
          continue;
        }
        const mark = op.events.length;
        try {
          const found = p.keyValue !== undefined ? existing.get(p.keyValue) : undefined;
          results.push(await writeRow(op, p, found, found ? undefined : await findMatches(op, p)));
          const held = dryRun ? heldByEarlierChunk(p, results.at(-1)!) : undefined;
          if (held) {
            // What the real run's storage refuses: this attempt is poisoned as by a conflict, the row fails alone.
            results[results.length - 1] = held;
            conflicted.set(p.row, held);
            retry = true;
          }
        } catch (error) {
          // A record another transaction changed since this one read it (PostgreSQL): no row's fault, the
          // whole chunk runs again (`runWrite`) and reads it anew.
          if (!isCrmError(error) || !ROW_FAILURES.has(error.code) || isRace(error, true)) throw error;
          // The row's checks failed before it wrote anything: drop any event it recorded, keep the chunk's other rows.
          op.events.length = mark;
          results.push(rowFailure(p.row, error));
          // A storage write that failed poisons the transaction (the storage contract): the commit would throw. The
          // same error object thrown again by a poisoned transaction is not this row's fault, so only new ones count.
          if (error.code === 'CONFLICT' && !fresh.includes(error)) {
            fresh.push(error);
            conflicted.set(p.row, results.at(-1)!);
            if (mode === 'upsert' && p.keyValue !== undefined && !existing.has(p.keyValue)) missed.add(p.row);
          }
        }
      }
      if (fresh.length || retry) throw new ConflictRetry();
      // Every row of a group gets the group's outcome and record id.
      results = results.flatMap((r, i) => prepared[i]!.rowReports ?? (prepared[i]!.rows ?? [r.row]).map((row) => ({ ...r, row })));
      if (dryRun) throw new DryRunRollback();
      const current = await op.require<ImportJob>('importJob', job!.id);
      if (current.rowsDone !== first - 1) {
        // Another run of the same job moved the checkpoint: writing this chunk again would duplicate it.
        throw new CrmError('CONFLICT', `import job ${job!.id} is at row ${current.rowsDone}, not ${first - 1}: another run is resuming it`, { entity: 'importJob', id: job!.id, expectedVersion: job!.version, actualVersion: current.version });
      }
      const add = tally(results);
      return op.update<ImportJob>('importJob', current, {
        ...current,
        version: current.version + 1,
        updatedAt: op.now,
        rowsDone: last,
        chunksDone: current.chunksDone + 1,
        counts: sum(current.counts, add),
      });
    };
    // Each conflict retry fails at least one more row (or turns one into an update, once), so this ends within
    // twice the chunk's size. A chunk is all-or-nothing, so one that failed on a retryable storage error (a
    // deadlock with a concurrent writer, a serialization failure) runs again, a few times.
    let storageRetries = 0;
    for (;;) {
      try {
        // Kept once committed: a run rolled back after its update must not leave its version behind.
        job = await runWrite(ctx, work);
        break;
      } catch (error) {
        if (isCrmError(error, 'STORAGE') && error.details.retryable && storageRetries < STORAGE_RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, 20 * ++storageRetries));
          continue;
        }
        if (error instanceof DryRunRollback) {
          // Results are per source row now (a group's rows share one): claim through each prepared row's first.
          const byRow = new Map(prepared.map((p) => [p.row, p]));
          for (const r of results) if (writes(r) && byRow.has(r.row)) claims.claim(refsOf(byRow.get(r.row)!), r.id!, r.row);
          break;
        }
        if (!(error instanceof ConflictRetry)) throw error;
      }
    }
    const add = tally(results);
    for (const k of ['created', 'updated', 'skipped', 'failed'] as const) counts[k] += add[k];
    rowsDone = last;
    chunks++;
    if (keep !== 'none') for (const r of results) if (keep === 'all' || r.outcome === 'failed' || r.outcome === 'skipped') reports.push(r);
    const p = progress();
    options.onProgress?.(p);
    await options.onChunk?.(results, p);
  };

  try {
    let batch: NumberedRow[][] = [];
    let size = 0;
    // The open group: consecutive rows of one key (a deal's order lines); a chunk may grow to finish it.
    let group: NumberedRow[] = [];
    let groupAt: string | undefined;
    const close = async () => {
      const g = group;
      group = [];
      if (!g.length) return;
      // Committed by an earlier run: only its key is remembered, for the in-file duplicate check.
      if (g[0]!.row <= resumedFrom) return void prepareGroup(g);
      batch.push(g);
      if ((size += g.length) >= chunkSize) {
        await runChunk(batch);
        batch = [];
        size = 0;
      }
    };
    for await (const source of numberedRows(options, mapping, fromHeader)) {
      const at = lines ? groupKey(source) : undefined;
      if (at === undefined || at !== groupAt) await close();
      else if (group.length >= MAX_GROUP_ROWS) {
        fail([], 'group_too_large', `rows ${group[0]!.row}–${source.row} have the same ${key}: a deal holds at most ${MAX_GROUP_ROWS} line items`);
      }
      group.push(source);
      groupAt = at;
      if (!lines) await close();
    }
    await close();
    if (batch.length) await runChunk(batch);
    if (job && !dryRun) {
      job = await runWrite(ctx, async (op) => {
        const current = await op.require<ImportJob>('importJob', job!.id);
        return op.update<ImportJob>('importJob', current, { ...current, version: current.version + 1, updatedAt: op.now, status: 'completed' });
      });
    }
  } catch (error) {
    if (job && !dryRun) await markFailed(ctx, job.id, error).catch(() => undefined);
    throw error;
  }
  return { ...(job && !dryRun ? { jobId: job.id } : {}), dryRun, entity: importer.entity, mode, rows: reports, counts, rowsDone, resumedFrom };
}

function tally(rows: readonly ImportRowReport[]): ImportCounts {
  const c = { created: 0, updated: 0, skipped: 0, failed: 0 };
  for (const r of rows) c[r.outcome]++;
  return c;
}

function sum(a: ImportCounts, b: ImportCounts): ImportCounts {
  return { created: a.created + b.created, updated: a.updated + b.updated, skipped: a.skipped + b.skipped, failed: a.failed + b.failed };
}

/** Records why a run stopped; the checkpoint stays at the last committed chunk. */
async function markFailed(ctx: CrmContext, id: string, error: unknown): Promise<void> {
  await runWrite(ctx, async (op) => {
    const current = await op.require<ImportJob>('importJob', id);
    const code = isCrmError(error) ? error.code : 'ERROR';
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    await op.update<ImportJob>('importJob', current, { ...current, version: current.version + 1, updatedAt: op.now, status: 'failed', error: { code, message } });
  });
}

/**
 * A job as a view may see it: its own jobs, or every job with the `setting: update` grant (an
 * administrator); `undefined` otherwise (its counts and row errors tell about records of others).
 */
function visibleJob(op: Operation, job: ImportJob | undefined): ImportJob | undefined {
  if (!job || !op.guard || job.startedBy === op.guard.principal.userId || op.guard.granted('setting', 'update')) return job;
  return undefined;
}

/** Reads an import job. @throws CrmError `NOT_FOUND` (in a view also for another user's job, without the settings grant). */
export async function readJob(ctx: CrmContext, id: string): Promise<ImportJob> {
  const jobId = parseId(id, 'import.job');
  return runRead(ctx, async (op) => {
    const job = visibleJob(op, await op.get<ImportJob>('importJob', jobId));
    if (!job) throw notFound('importJob', jobId);
    return job;
  });
}
