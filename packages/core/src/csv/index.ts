// Entry point of @crmkit/core/csv: a streaming CSV reader (papaparse, an optional peer) for crm.import.run({ csv }).
export { csvSource, type CsvInput, type CsvSourceOptions } from './csv-source.js';
export type { CsvBatch, CsvRecord, CsvSource } from '../imports/import-types.js';
