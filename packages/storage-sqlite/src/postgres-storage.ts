import type { StorageAdapter, StorageCapabilities } from '@crmkit/core';
import { loadPg } from './postgres-driver.js';
import { OWNER_KEYED } from './table-layout.js';
import { createPostgresEngine } from './postgres-engine.js';
import { resolvePostgresOptions, type PostgresStorageOptions } from './postgres-storage-config.js';
import { createSqlStorage, SQL_FILTER_OPS } from './sql-storage.js';

/**
 * What PostgreSQL storage pushes down: every filter operator, sorting, keyset pagination and GROUP BY.
 * `externalChanges`: commits of other adapters on the same database (other processes) reach `onChange`
 * through `LISTEN/NOTIFY`.
 */
export const POSTGRES_CAPABILITIES: StorageCapabilities = {
  filterOps: [...SQL_FILTER_OPS],
  sort: true,
  aggregate: true,
  durable: true,
  ownerKeys: OWNER_KEYED,
  externalChanges: true,
};

/**
 * Creates crmkit storage on PostgreSQL (pg): the path for deployments that outgrow one machine.
 * Same layout and query compiler as SQLite storage; documents are `jsonb`, text is `COLLATE "C"`.
 *
 * @param options `{ connectionString }` (the adapter owns a pool of `maxConnections`) or `{ pool }`
 *   (yours, left open on close), plus `schema`, `tablePrefix`, and `externalChanges`
 *   (`'notify'` by default; `'poll'` with `changePollMs` on engines without LISTEN/NOTIFY such as
 *   CockroachDB; `false` for one process per database — see docs/scaling.md).
 * @returns An unopened `StorageAdapter` named `postgres`.
 * @throws CrmError `VALIDATION` for bad options (synchronously).
 * @example
 * import { createCrm } from '@crmkit/core';
 * import { createPostgresStorage } from '@crmkit/storage-sqlite';
 * const storage = createPostgresStorage({ connectionString: process.env.DATABASE_URL!, schema: 'crm' });
 * // On CockroachDB: createPostgresStorage({ connectionString, externalChanges: 'poll', changePollMs: 500 })
 * const crm = await createCrm({ storage, tenantId: 'acme' });
 */
export function createPostgresStorage(options: PostgresStorageOptions): StorageAdapter {
  const resolved = resolvePostgresOptions(options);
  const { connectionString, maxConnections } = resolved;
  const engine = createPostgresEngine({
    ...resolved,
    createPool: async () => new (await loadPg())({ connectionString: connectionString!, max: maxConnections, application_name: 'crmkit', pipeline: true }),
  });
  return createSqlStorage(engine, { ...POSTGRES_CAPABILITIES, filterOps: [...POSTGRES_CAPABILITIES.filterOps], externalChanges: resolved.externalChanges !== false }, {
    ...(resolved.schema ? { schema: resolved.schema } : {}),
    tablePrefix: resolved.tablePrefix,
    ownerKeys: true,
  });
}
