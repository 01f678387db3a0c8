// Entry point @crmkit/storage-sqlite/pglite: PostgreSQL storage on PGlite, importable in browsers
// (nothing here reaches better-sqlite3, pg or a node: module).
export { createPgliteStorage, pgliteCapabilities } from './pglite-storage.js';
export type { PgliteStorageOptions } from './pglite-storage.js';
export type { PgliteDatabase, PgliteTransaction } from './pglite-driver.js';
