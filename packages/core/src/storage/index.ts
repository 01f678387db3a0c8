// Entry point of @crmkit/core/storage: what authors of storage adapters need (our SQLite, PostgreSQL and
// IndexedDB adapters use it): the contract, the schema to create, the guards every adapter applies, and
// the reference meaning of queries (matcher, comparators, cursors, executor) to fall back on or test against.

export type { StorageAdapter, StorageTx, StorageCapabilities, Row, WriteOp, Change, ChangeBatch } from './storage-adapter.js';
export { entitySchemaOf, type StorageSchema, type EntitySchema, type IndexSpec } from './storage-schema.js';
export { CUSTOM_PATH_PATTERN, type FieldType } from '../query/field-type.js';
export { CRM_STORAGE_SCHEMA, type CrmEntity } from './crm-schema.js';
export { assertOpen as assertAdapterOpen, assertRowTenant, assertStorableRow, assertStorableQuery, checkWriteVersion, deliverChangeBatch } from './adapter-guards.js';
export { findUnstorableText, unstorableTextReason } from '../domain/storable-text.js';

export { matchFilter } from '../query/match.js';
export { compareValues, compareStrings, compareRows, compareRowToPosition } from '../query/compare.js';
export { encodeCursor, decodeCursor, type CursorPosition } from '../query/cursor.js';
export { executeQuery, executeAggregate, paginate } from '../query/execute.js';
export { getPath } from '../query/path.js';
