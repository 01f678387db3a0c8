// Entry point of @crmkit/core/imports: imports with mapping and per-row reports, exports, and create-many, as an opt-in crm feature.
export { imports, type ImportsFeature } from './imports-feature.js';
export type { ImportService, ImportApi, ExportApi } from './import-service.js';
export type { CreateManyOptions } from './deal-import.js';
export type { ImportMapping, ColumnSpec, ValueKind, SourceRow } from './column-mapping.js';
export type { ImportEntity } from './import-entities.js';
export type {
  CsvBatch, CsvRecord, CsvSource, DuplicateHandling, ImportCounts, ImportJob, ImportMode, ImportProgress, ImportReport, ImportRowReport, ImportRunOptions, RowOutcome,
} from './import-types.js';
export type { ExportEntity, ExportOptions, ExportStream } from './export-run.js';
export { parseLocaleNumber, parseLocaleMoney, parseLocaleDate, splitFullName } from './value-parsers.js';
