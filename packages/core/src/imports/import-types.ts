import type { CrmErrorCode, ValidationIssue } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';
import type { ImportMapping, SourceRow } from './column-mapping.js';
import type { ImportEntity } from './import-entities.js';

/** One parsed record of a CSV file: its cells by column, and what made it unreadable (a ragged row, a stray quote). */
export interface CsvRecord {
  readonly values: Readonly<Record<string, string>>;
  readonly issues?: readonly ValidationIssue[];
}

/** A batch of parsed CSV records with the file's header, as `@crmkit/core/csv` yields them. */
export interface CsvBatch {
  readonly header: readonly string[];
  readonly records: readonly CsvRecord[];
}

/** A parsed CSV file, read batch by batch (`csvSource(...)` from `@crmkit/core/csv`). */
export type CsvSource = AsyncIterable<CsvBatch>;

/** What an import does with a row whose key matches no record / a stored record. */
export type ImportMode = 'create' | 'update' | 'upsert';

/** What happened to one row. `skipped`: a duplicate left alone, or an update that changed nothing. */
export type RowOutcome = 'created' | 'updated' | 'skipped' | 'failed';

/** The report of one source row. */
export interface ImportRowReport {
  /** 1-based number of the row among the source's data rows (a CSV file's header is not counted). */
  readonly row: number;
  readonly outcome: RowOutcome;
  /** The record created, updated or (for a skipped duplicate) matched; in a dry run, the id it would get. */
  readonly id?: string;
  /** Why it failed: `VALIDATION` (with `issues`, the API's own), `NOT_FOUND`, `FORBIDDEN`, `RULE_VIOLATION`, `CONFLICT`. */
  readonly error?: CrmErrorCode;
  readonly issues?: readonly ValidationIssue[];
  /** Why it was skipped: `duplicate` (see `duplicateOf`) or `unchanged`. */
  readonly reason?: 'duplicate' | 'unchanged';
  /** Records the duplicates finder matched (flagged or skipped rows), best first. */
  readonly duplicateOf?: readonly string[];
}

export interface ImportCounts {
  readonly created: number;
  readonly updated: number;
  readonly skipped: number;
  readonly failed: number;
}

/** Progress after each committed chunk. */
export interface ImportProgress {
  readonly jobId?: string;
  /** Source rows handled so far in this job (resumed runs include the rows handled before). */
  readonly rows: number;
  /** Total rows when known (`rows` arrays, or `expectedRows`). */
  readonly total?: number;
  readonly chunks: number;
  /** Rows per second in this run, by the crm's clock (absent before any time passed). */
  readonly rowsPerSecond?: number;
  /** Estimated milliseconds left, when the total and a rate are known. */
  readonly etaMs?: number;
}

/** A stored import job: its settings and its checkpoint. `crm.import.job(id)`. */
export interface ImportJob extends RecordBase {
  readonly status: 'running' | 'completed' | 'failed';
  readonly entity: ImportEntity;
  readonly mode: ImportMode;
  readonly key?: string;
  readonly chunkSize: number;
  /** The run's locale and its mapping (JSON, functions by name): a resume must bring the same. */
  readonly locale?: string;
  readonly mapping?: string;
  /** The run's duplicate handling (action, minScore) and whether it read a CSV file (JSON): a resume must bring the same. */
  readonly settings?: string;
  /** The checkpoint: source rows handled by the chunks committed so far. A resume starts after them. */
  readonly rowsDone: number;
  readonly chunksDone: number;
  readonly counts: ImportCounts;
  /** Why the last run stopped, when it failed. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly startedBy?: string;
}

/** What to do with a row the duplicates finder matches (`crm.duplicates.find`; needs `duplicates()`). */
export interface DuplicateHandling {
  /** `skip` the row, `update` the best match with it, or create it and `flag` the matches in the report. */
  readonly action: 'skip' | 'update' | 'flag';
  /** Minimum score, 0–1 (default 0.8: likely the same client, not merely similar). */
  readonly minScore?: number;
}

/** Options of `crm.import.run`. Give exactly one of `rows`, `stream` and `csv`. */
export interface ImportRunOptions {
  readonly entity: ImportEntity;
  /** Rows in memory: objects of column → value. */
  readonly rows?: Iterable<SourceRow>;
  /** Rows from an async iterable or a web `ReadableStream` of objects. */
  readonly stream?: AsyncIterable<SourceRow> | ReadableStream<SourceRow>;
  /** A CSV file parsed by `csvSource` from `@crmkit/core/csv`. */
  readonly csv?: CsvSource;
  /**
   * Field → column. Without it, columns are field paths (`name`, `email`, `custom.vatId`, `externalRefs.shop`,
   * `value.amount`), read as their field's type (lists comma-separated, numbers, yes/no; custom fields as
   * defined); a CSV header naming no field, or lacking a required one, fails the run with `VALIDATION` (at
   * `['csv', column]`) before a job or a row is written. Columns crmkit writes itself (`version`, `createdAt`,
   * `updatedAt`, derived fields such as `weightedValue.amount`) are ignored, so an export without a mapping
   * imports back (money custom fields as `custom.<key>.amount`/`.currency`, `externalRefs` as `system:id`
   * keys, line items and participants as JSON; docs/integration.md). For deals,
   * `lineItems.<field>` columns (`name`, `quantity`, `unitPrice`, …) read one order line per row: consecutive
   * rows with the same `key` are one deal (its cells from the first row; a differing cell fails the group).
   */
  readonly mapping?: ImportMapping;
  /** Default `create`. `update` and `upsert` need `key`; activities take `create` and `upsert` (an activity found by key is left as it is). */
  readonly mode?: ImportMode;
  /**
   * The field that identifies a record: `externalRef:<system>`, `id`, `email`, `domain`, `phone`, `title`, … (a
   * stored, queryable field). E-mails compare without case, domains canonical, phone numbers by E.164 identity
   * (it needs the duplicates() feature); others exactly.
   */
  readonly key?: string;
  readonly duplicates?: DuplicateHandling;
  /** BCP 47 locale of the file's numbers and dates (default `en-US`). */
  readonly locale?: string;
  /** Check every row and report, writing nothing (each chunk runs and is rolled back). */
  readonly dryRun?: boolean;
  /** Rows per transaction, 1–10 000 (default 500). */
  readonly chunkSize?: number;
  /** Which rows the result lists: `all` (default), `problems` (failed and skipped) or `none` (counts only: huge files). */
  readonly report?: 'all' | 'problems' | 'none';
  readonly expectedRows?: number;
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Called after each chunk committed, with its rows' reports (in a dry run: after it was checked). */
  readonly onChunk?: (rows: readonly ImportRowReport[], progress: ImportProgress) => void | Promise<void>;
}

/** The result of an import run. */
export interface ImportReport {
  /** The stored job (absent for a dry run). */
  readonly jobId?: string;
  readonly dryRun: boolean;
  readonly entity: ImportEntity;
  readonly mode: ImportMode;
  /** Row reports, as `report` chose. */
  readonly rows: readonly ImportRowReport[];
  /** Counts of this run. */
  readonly counts: ImportCounts;
  /** Rows the job handled in total (with the rows of earlier runs when resumed). */
  readonly rowsDone: number;
  /** The row the run started after (0, or the checkpoint it resumed from). */
  readonly resumedFrom: number;
}
