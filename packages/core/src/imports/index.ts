// Entry point of @crmkit/core/imports: bulk, all-or-nothing imports as an opt-in crm feature.
export { imports, type ImportsFeature } from './imports-feature.js';
export type { ImportService } from './import-service.js';
export type { CreateManyOptions } from './deal-import.js';
