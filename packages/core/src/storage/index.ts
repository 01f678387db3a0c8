// Entry point of @crmkit/core/storage: what authors of storage adapters need (our SQLite, PostgreSQL and
// IndexedDB adapters use it): the contract, the schema to create, the guards every adapter applies, and
// the reference meaning of queries (matcher, comparators, cursors, executor) to fall back on or test against.

export type { StorageAdapter, StorageTx, StorageCapabilities, Row, WriteOp, Change, ChangeBatch, RuntimeIndexSpec } from './storage-adapter.js';
export { entitySchemaOf, type StorageSchema, type EntitySchema, type IndexSpec, type AggregateViewSpec } from './storage-schema.js';
export { CUSTOM_PATH_PATTERN, type FieldType } from '../query/field-type.js';
export { CRM_STORAGE_SCHEMA, type CrmEntity } from './crm-schema.js';
export { assertOpen as assertAdapterOpen, assertRowTenant, assertSequenceArgs, assertStorableRow, assertStorableQuery, assertQueryableFields, checkWriteVersion, deliverChangeBatch, checkRuntimeIndexes } from './adapter-guards.js';
export { uniqueConflict } from '../errors/crm-error.js';
export { findUnstorableText, unstorableTextReason } from '../domain/storable-text.js';
export { frozenCopy } from './deep-freeze.js';
// Device sync: the entities' id prefixes and the ids a command derives from its seed.
export { ID_PREFIX, createCommandIds } from '../domain/ids.js';
export { planViewRead, viewGroupKey, viewGroupId, emptyViewGroup, addToViewGroup, sameViewContribution, viewMoves, type ViewGroup, type ViewRead, type ViewMove, type RowMove } from './aggregate-views.js';
// Toolkit for adapters over ordered key-value engines (IndexedDB): key encoding, key-path layouts, the index planner, staged writes.
export { encodeValue, encodeString, compareKeys, MISSING, type Key } from './kv/key-encoding.js';
export { buildStoreLayouts, withRuntimeIndexes, toStored, fromStored, RUNTIME_INDEX, type StoreLayout, type KeySource, type StoredRecord } from './kv/index-layout.js';
export { planQuery, type Plan, type KeyRange } from './kv/index-planner.js';
export { queryCandidates, aggregateCandidates, growing, type PlanScan, type CandidateSource } from './kv/candidate-reads.js';
export { StagedWrites } from './kv/staged-writes.js';
export { storedForWrite, uniqueIndexOf, holderOf, type WriteReads } from './kv/write-reads.js';
export { UniqueStaging, uniqueValuesOf, type StoredHolder } from './unique-keys.js';
export { ViewChanges, viewRecordKey, type StoredViewGroup } from './kv/view-changes.js';

export { matchFilter, createMatcher } from '../query/match.js';
export { filterFields } from '../query/query-spec.js';
export { compareValues, compareStrings, compareRows, compareRowToPosition } from '../query/compare.js';
export { encodeCursor, decodeCursor, type CursorPosition } from '../query/cursor.js';
export { executeQuery, executeAggregate, paginate } from '../query/execute.js';
export { getPath } from '../query/path.js';
