import type { CrmContext } from '../crm/context.js';
import type { Crm } from '../crm/crm.js';
import type { Deal, DealCreateInput } from '../schema/deal.js';
import type { Contact, ContactCreateInput } from '../schema/contact.js';
import type { Company, CompanyCreateInput } from '../schema/company.js';
import type { Lead, LeadCreateInput } from '../schema/lead.js';
import { contactCreateInputSchema } from '../schema/contact.js';
import { companyCreateInputSchema } from '../schema/company.js';
import { leadCreateInputSchema } from '../schema/lead.js';
import { CONTACT_CARD } from '../contacts/contact-service.js';
import { COMPANY_CARD } from '../companies/company-service.js';
import { LEAD_CARD } from '../leads/lead-service.js';
import { createManyDeals, type CreateManyOptions } from './deal-import.js';
import { createManyCards } from './card-import.js';
import { readJob, runImport } from './import-run.js';
import type { ImportJob, ImportReport, ImportRunOptions } from './import-types.js';
import { exportRecords, type ExportOptions, type ExportStream } from './export-run.js';

/**
 * Validated create-many: many records in one transaction, all or nothing. `crm.imports`.
 * For files, mapping, updates and per-row reports use `crm.import.run`.
 */
export class ImportService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Creates many deals in one transaction (imports, ERP sync), each as `crm.deals.create` would:
   * first stage visit, template tasks and next step (with the tasks feature), `deal.created`.
   * Every input is validated first; problems are reported as `[index, …path]` and nothing is written.
   *
   * @param inputs The deals, at most 1,000,000 (one transaction holds them all).
   * @param options `onProgress(done, total)`, called every `progressEvery` deals (default 1000) and at the end.
   * @returns The created deals, in input order.
   * @throws CrmError `VALIDATION` listing up to 100 problems as `[index, …path]`; nothing is written.
   * @example
   * await crm.imports.deals(rows, { onProgress: (done, total) => console.log(`${done}/${total}`) });
   */
  async deals(inputs: readonly DealCreateInput[], options?: CreateManyOptions): Promise<Deal[]> {
    return createManyDeals(this.ctx, inputs, options);
  }

  /**
   * Creates many contacts in one transaction, each as `crm.contacts.create` would; every input is
   * validated first.
   *
   * @param inputs The contacts, at most 1,000,000.
   * @param options `onProgress(done, total)` every `progressEvery` contacts (default 1000).
   * @returns The created contacts, in input order.
   * @throws CrmError `VALIDATION` listing up to 100 problems as `[index, …path]`; nothing is written.
   * @example
   * await crm.imports.contacts([{ name: 'Ada Lovelace', email: 'ada@example.com' }]);
   */
  async contacts(inputs: readonly ContactCreateInput[], options?: CreateManyOptions): Promise<Contact[]> {
    return createManyCards(this.ctx, CONTACT_CARD, contactCreateInputSchema, inputs, options, 'imports.contacts');
  }

  /**
   * Creates many companies in one transaction, as `crm.companies.create` would.
   *
   * @param inputs The companies, at most 1,000,000.
   * @param options As `contacts`.
   * @returns The created companies, in input order.
   * @throws CrmError `VALIDATION` listing up to 100 problems as `[index, …path]`; nothing is written.
   * @example
   * await crm.imports.companies([{ name: 'Analytical Engines Ltd', domain: 'analytical.co.uk' }]);
   */
  async companies(inputs: readonly CompanyCreateInput[], options?: CreateManyOptions): Promise<Company[]> {
    return createManyCards(this.ctx, COMPANY_CARD, companyCreateInputSchema, inputs, options, 'imports.companies');
  }

  /**
   * Creates many leads in one transaction, as `crm.leads.create` would (without assignment routing).
   *
   * @param inputs The leads, at most 1,000,000.
   * @param options As `contacts`.
   * @returns The created leads, in input order.
   * @throws CrmError `VALIDATION` listing up to 100 problems as `[index, …path]`; nothing is written.
   * @example
   * await crm.imports.leads([{ name: 'Grace Hopper', email: 'grace@example.com', source: 'fair' }]);
   */
  async leads(inputs: readonly LeadCreateInput[], options?: CreateManyOptions): Promise<Lead[]> {
    return createManyCards(this.ctx, LEAD_CARD, leadCreateInputSchema, inputs, options, 'imports.leads');
  }
}

/** Imports of files and row streams with a mapping, modes, a per-row report and resumable jobs. `crm.import`. */
export class ImportApi {
  /** @internal */
  constructor(
    private readonly ctx: CrmContext,
    private readonly crm: Crm,
  ) {}

  /**
   * Imports rows into leads, contacts, companies, deals or activities, chunk by chunk: each chunk is
   * one transaction (all its rows' writes and the job's checkpoint, or nothing), so a crash leaves
   * whole chunks and `resume(jobId, …)` continues after the last committed one. Rows that fail their
   * checks are reported (with the API's own `VALIDATION` issues) and the chunk's other rows commit.
   *
   * @param options `entity`; one of `rows`, `stream`, `csv` (`csvSource` from `@crmkit/core/csv`);
   *   `mapping` (field → column or `ColumnSpec`; for deals `lineItems.<field>` columns make consecutive rows
   *   with the same `key` one deal with a line per row, every row reporting the deal); `mode` `create` | `update` | `upsert` with `key`;
   *   `duplicates` `{ action: 'skip' | 'update' | 'flag' }` (the duplicates finder); `locale`;
   *   `dryRun`; `chunkSize` (default 500); `report`; `onProgress`, `onChunk`.
   * @returns The report: `jobId`, per-row outcomes (`created` / `updated` / `skipped` / `failed`, id, issues), counts.
   * @throws CrmError `VALIDATION` for bad options, a mapping that misses a required field or a CSV
   *   column, an unknown `lineItems.<field>`, a deal's group of more than 500 line rows (`group_too_large`), and unreadable CSV bytes (`invalid_encoding`); `STORAGE` when a chunk cannot be written
   *   (that chunk is not written; the job keeps its checkpoint).
   * @example
   * const report = await crm.import.run({
   *   entity: 'contact', csv: csvSource(file.stream(), { encoding: 'windows-1252' }), locale: 'de-DE',
   *   mapping: { name: 'Name', email: 'E-Mail', 'custom.revenue': { column: 'Umsatz', as: 'number' } },
   *   mode: 'upsert', key: 'email',
   * });
   */
  async run(options: ImportRunOptions): Promise<ImportReport> {
    return runImport(this.ctx, this.crm, options);
  }

  /**
   * Continues a job that stopped (a crash, a failed chunk) after its checkpoint: give the same source
   * again and the same options; the rows before the checkpoint are read but not written again.
   *
   * @param jobId The `jobId` of the run (`report.jobId`, or the `onProgress` argument's).
   * @param options The run's options (entity, mode, key and chunkSize must equal the job's).
   * @returns The report of the rows after the checkpoint (`resumedFrom` says where it started).
   * @throws CrmError `NOT_FOUND` for an unknown job; `VALIDATION` for a completed job or other settings.
   * @example
   * await crm.import.resume(jobId, { entity: 'contact', csv: csvSource(await reopen()), mapping });
   */
  async resume(jobId: string, options: ImportRunOptions): Promise<ImportReport> {
    return runImport(this.ctx, this.crm, options, jobId);
  }

  /**
   * Reads a stored import job: status, checkpoint (`rowsDone`) and counts.
   *
   * @param jobId The job's id.
   * @returns The job.
   * @throws CrmError `NOT_FOUND`.
   * @example
   * const { status, rowsDone } = await crm.import.job(jobId);
   */
  async job(jobId: string): Promise<ImportJob> {
    return readJob(this.ctx, jobId);
  }
}

/** Streamed exports of any list filter, mirroring imports. `crm.export`. */
export class ExportApi {
  /** @internal */
  constructor(
    private readonly crm: Crm,
    private readonly ctx?: CrmContext,
  ) {}

  /**
   * Streams the records a filter selects as CSV (formula-safe, RFC 4180) or JSON, through the
   * entity's `list` (a view exports what it may read), page by page.
   *
   * @param options `entity`, `where`, `orderBy`, `mapping` (the import's), `format`, `locale`, `separator`, `bom`.
   * @returns An async iterable of text chunks with `toReadableStream()`.
   * @throws CrmError `VALIDATION` for bad options (an unknown option key such as `filter` for `where`, a locale that
   *   is no BCP 47 tag or that the runtime lacks, `bom` not a boolean; a mapping with no column, an unknown field, an `as`
   *   that does not fit its field, a money column without `currency` or `currencyColumn`, two fields on one column —
   *   all at the call); an unknown `custom.<key>` and a bad filter fail on the first read.
   * @example
   * for await (const chunk of crm.export.run({ entity: 'contact', where: where.eq('country', 'DE'), format: 'csv' })) out.write(chunk);
   */
  run(options: ExportOptions): ExportStream {
    return exportRecords(this.crm, options, this.ctx);
  }
}
