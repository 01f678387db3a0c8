// Entry point of @crmkit/storage-sqlite. Explicit named exports only: everything here is public API.
export { createSqliteStorage, sqliteCapabilities } from './sqlite-storage.js';
export type { SqliteStorageOptions, SqliteFileOptions, SqliteDatabaseOptions, SqliteStorageCommonOptions } from './sqlite-storage-config.js';
export type { SqliteDatabase, SqliteStatement } from './sqlite-driver.js';
export { createPostgresStorage, POSTGRES_CAPABILITIES } from './postgres-storage.js';
export type { PostgresStorageOptions, PostgresConnectionOptions, PostgresPoolOptions, PostgresStorageCommonOptions } from './postgres-storage-config.js';
export type { PgPool, PgPoolClient, PgQueryConfig, PgQueryResult } from './postgres-driver.js';
export { LAYOUT_VERSION, columnNameOf } from './table-layout.js';
export { createPgliteStorage, pgliteCapabilities } from './pglite-storage.js';
export type { PgliteStorageOptions } from './pglite-storage.js';
export type { PgliteDatabase, PgliteTransaction } from './pglite-driver.js';
