import type { StorageAdapter, StorageCapabilities } from '@crmkit/core';
import { createSqliteEngine } from './sqlite-engine.js';
import { resolveSqliteOptions, type SqliteStorageOptions } from './sqlite-storage-config.js';
import { createSqlStorage, SQL_FILTER_OPS } from './sql-storage.js';

/**
 * What SQLite storage pushes down: every filter operator, sorting, keyset pagination and GROUP BY.
 * `externalChanges` is false: commits of other processes on the same file are not reported to
 * `onChange` (they are seen by the next transaction).
 */
export function sqliteCapabilities(durable: boolean): StorageCapabilities {
  return { filterOps: [...SQL_FILTER_OPS], sort: true, aggregate: true, durable, externalChanges: false };
}

/**
 * Creates crmkit storage on SQLite (better-sqlite3): the embedded default. One table per entity with
 * the document as JSON and one column per queryable field; filters, sorts, keyset pages and
 * aggregates run as SQL. Tables are created or migrated by `open` (which `createCrm` calls).
 *
 * @param options `{ filename }` (a path, or `':memory:'`) or `{ database }` (a better-sqlite3 Database
 *   you own), plus `synchronous`, `busyTimeoutMs`, `tablePrefix`, `statementCacheSize`.
 * @returns An unopened `StorageAdapter` named `sqlite`.
 * @throws CrmError `VALIDATION` for bad options (synchronously).
 * @example
 * import { createCrm } from '@crmkit/core';
 * import { createSqliteStorage } from '@crmkit/storage-sqlite';
 * const crm = await createCrm({ storage: createSqliteStorage({ filename: 'crm.db' }), tenantId: 'acme' });
 */
export function createSqliteStorage(options: SqliteStorageOptions): StorageAdapter {
  const resolved = resolveSqliteOptions(options);
  const memory = resolved.filename === ':memory:' || resolved.filename === '' || resolved.database?.memory === true;
  const engine = createSqliteEngine(resolved);
  return createSqlStorage(engine, sqliteCapabilities(!memory), { tablePrefix: resolved.tablePrefix });
}
