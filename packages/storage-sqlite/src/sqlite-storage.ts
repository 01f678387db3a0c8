import type { StorageAdapter, StorageCapabilities } from '@crmkit/core';
import { createSqliteEngine } from './sqlite-engine.js';
import { resolveSqliteOptions, type SqliteStorageOptions } from './sqlite-storage-config.js';
import { createSqlStorage, SQL_FILTER_OPS } from './sql-storage.js';
import { OWNER_KEYED } from './table-layout.js';

/**
 * What SQLite storage pushes down: every filter operator, sorting, keyset pagination and GROUP BY.
 * `externalChanges`: commits of other connections and processes on the same file reach `onChange`
 * (a file database with `changePollMs` above 0; an in-memory database has no other connections).
 *
 * @param durable A file database (not `:memory:`).
 * @param watching Whether other connections' commits are watched (default: same as `durable`).
 */
export function sqliteCapabilities(durable: boolean, watching = durable): StorageCapabilities {
  return { filterOps: [...SQL_FILTER_OPS], sort: true, aggregate: true, durable, externalChanges: durable && watching, ownerKeys: OWNER_KEYED };
}

/**
 * Creates crmkit storage on SQLite (better-sqlite3): the embedded default. One table per entity with
 * the document as JSON and one column per queryable field; filters, sorts, keyset pages and
 * aggregates run as SQL. Tables are created or migrated by `open` (which `createCrm` calls).
 *
 * While another connection watches the file (registered in `crmkit_watchers`), every write transaction
 * also appends its list of changes to a journal table (`crmkit_changes`, pruned after 10 minutes), from
 * which the other processes learn what changed: their `onChange` listeners get `external` batches
 * within `changePollMs`. A process alone on its file journals nothing.
 *
 * @param options `{ filename }` (a path, or `':memory:'`) or `{ database }` (a better-sqlite3 Database
 *   you own), plus `synchronous`, `busyTimeoutMs`, `tablePrefix`, `statementCacheSize`, `changePollMs`.
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
  const engine = createSqliteEngine({ ...resolved, changePollMs: memory ? 0 : resolved.changePollMs });
  return createSqlStorage(engine, sqliteCapabilities(!memory, resolved.changePollMs > 0), { tablePrefix: resolved.tablePrefix, ownerKeys: true });
}
