import type { StorageAdapter, StorageCapabilities } from '@crmkit/core';
import { pglitePool, type PgliteDatabase } from './pglite-driver.js';
import { createPostgresEngine } from './postgres-engine.js';
import { OWNER_KEYED } from './table-layout.js';
import { SCHEMA_PATTERN, type PostgresStorageCommonOptions } from './postgres-storage-config.js';
import { TABLE_PREFIX_PATTERN } from './sqlite-storage-config.js';
import { createSqlStorage, SQL_FILTER_OPS } from './sql-storage.js';
import { invalidInput } from './storage-errors.js';

/** Options of `createPgliteStorage`. */
export interface PgliteStorageOptions extends PostgresStorageCommonOptions {
  /** An open PGlite database (`new PGlite(…)`, `await PGlite.create(…)` or a `PGliteWorker`); yours, left open on close. */
  readonly pglite: PgliteDatabase;
  /**
   * Whether the data outlives the PGlite instance (`capabilities.durable`). Default: from `pglite.dataDir`
   * (false for memory); set it for a `PGliteWorker`, which does not expose its data directory.
   */
  readonly durable?: boolean;
}

/** True for PGlite data directories that live in memory only. */
function inMemory(dataDir: string | undefined): boolean {
  return dataDir === undefined || dataDir === '' || dataDir.startsWith('memory://');
}

/**
 * What PGlite storage pushes down: the same as PostgreSQL (every filter operator, sorting, keyset
 * pagination, GROUP BY). `durable` unless the database is in memory; `externalChanges` is false.
 */
export function pgliteCapabilities(durable: boolean): StorageCapabilities {
  return { filterOps: [...SQL_FILTER_OPS], sort: true, aggregate: true, durable, externalChanges: false, ownerKeys: OWNER_KEYED };
}

const CONTEXT = 'createPgliteStorage';
const KNOWN = new Set(['pglite', 'schema', 'tablePrefix', 'durable']);

function resolve(options: unknown): { pglite: PgliteDatabase; schema?: string; tablePrefix: string; durable: boolean } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidInput(CONTEXT, [], 'invalid_type', 'pass { pglite }');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw invalidInput(CONTEXT, [key], 'unknown_field', `unknown option "${key}"`);
  const pglite = o.pglite as Partial<PgliteDatabase> | null | undefined;
  if (typeof pglite !== 'object' || pglite === null || typeof pglite.transaction !== 'function') {
    throw invalidInput(CONTEXT, ['pglite'], 'invalid_type', 'must be a PGlite database (new PGlite() from @electric-sql/pglite)');
  }
  if (o.schema !== undefined && (typeof o.schema !== 'string' || !SCHEMA_PATTERN.test(o.schema) || o.schema.startsWith('pg_'))) {
    throw invalidInput(CONTEXT, ['schema'], 'invalid_value', 'must be lowercase letters, digits and "_" (not starting with pg_)');
  }
  if (o.tablePrefix !== undefined && (typeof o.tablePrefix !== 'string' || !TABLE_PREFIX_PATTERN.test(o.tablePrefix))) {
    throw invalidInput(CONTEXT, ['tablePrefix'], 'invalid_value', 'must be lowercase letters, digits and "_", starting with a letter');
  }
  if (o.durable !== undefined && typeof o.durable !== 'boolean') throw invalidInput(CONTEXT, ['durable'], 'invalid_type', 'must be a boolean');
  return {
    pglite: pglite as PgliteDatabase,
    ...(o.schema !== undefined ? { schema: o.schema as string } : {}),
    tablePrefix: (o.tablePrefix as string | undefined) ?? '',
    durable: (o.durable as boolean | undefined) ?? !inMemory(pglite.dataDir),
  };
}

/**
 * Creates crmkit storage on PGlite (`@electric-sql/pglite`): PostgreSQL compiled to WebAssembly, in
 * the same process, in Node or the browser, with no server. It is the PostgreSQL storage — same tables,
 * SQL and migrations as `createPostgresStorage`, adapter name `postgres` — over PGlite's single
 * connection instead of a pool.
 *
 * One connection means one transaction at a time: the adapter queues its transactions (reads too, as
 * on SQLite), and each one holds PGlite's transaction lock while it runs, so your own queries on the
 * same PGlite wait for it rather than interleave. Never call crmkit from inside your own
 * `pglite.transaction()` callback: crmkit's transaction would wait for yours forever.
 *
 * @param options `{ pglite }` (yours; `close()` leaves it open), plus `schema` (created if missing),
 *   `tablePrefix` and `durable`.
 * @returns An unopened `StorageAdapter` named `postgres`.
 * @throws CrmError `VALIDATION` for bad options (synchronously).
 * @example
 * import { PGlite } from '@electric-sql/pglite';
 * import { createCrm } from '@crmkit/core';
 * import { createPgliteStorage } from '@crmkit/storage-sqlite/pglite';
 * const pglite = await PGlite.create('idb://crm'); // in Node: a directory path, or nothing for memory
 * const crm = await createCrm({ storage: createPgliteStorage({ pglite }), tenantId: 'acme' });
 */
export function createPgliteStorage(options: PgliteStorageOptions): StorageAdapter {
  const { pglite, schema, tablePrefix, durable } = resolve(options);
  // serializeReads: one connection, so reads queue with writes in the adapter instead of waiting in PGlite.
  // No databaseTime: PGlite runs in this process (its clock is the host's), and its one connection, held by an open
  // transaction, would make a clock read inside that transaction wait for it forever.
  const { databaseTime: _ownClock, ...postgres } = createPostgresEngine({ pool: pglitePool(pglite), ...(schema ? { schema } : {}), tablePrefix, externalChanges: false });
  const engine = { ...postgres, serializeReads: true };
  return createSqlStorage(engine, pgliteCapabilities(durable), { ...(schema ? { schema } : {}), tablePrefix, ownerKeys: true });
}
