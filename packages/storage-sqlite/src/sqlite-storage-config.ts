import { consoleLogger, type Logger } from '@crmkit/core';
import type { SqliteDatabase } from './sqlite-driver.js';
import { invalidInput, readOptions } from './storage-errors.js';

/** Options shared by both ways to open SQLite storage. */
export interface SqliteStorageCommonOptions {
  /**
   * `normal` (default): in WAL mode a commit survives a crash of the process but the last commits
   * may be lost on power failure. `full`: every commit is synced to disk (slower writes).
   */
  readonly synchronous?: 'normal' | 'full';
  /** How long a writer waits for another process's write lock before failing with retryable `STORAGE` (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Prefix for every table name, to share a database with other tables (default none). */
  readonly tablePrefix?: string;
  /** How many compiled queries keep a prepared statement (default 256). */
  readonly statementCacheSize?: number;
  /**
   * SQLite page cache of the connection in MiB (default 16; SQLite's own default is 2). SQLite's sorter
   * (ORDER BY or GROUP BY without a matching index) may use as much again, so a process's peak memory
   * grows by about twice this value on large aggregates.
   */
  readonly cacheSizeMb?: number;
  /**
   * How often (ms) the adapter looks for commits of other connections and processes on the same
   * file, to report them to `onChange` as `external` batches (default 100; 0 turns it off and makes
   * `capabilities.externalChanges` false). Each look is one `PRAGMA data_version` while nothing changed.
   */
  readonly changePollMs?: number;
  /** Where the adapter reports what it recovered from, such as a failed ROLLBACK (default: console warnings and errors). */
  readonly logger?: Pick<Logger, 'warn' | 'error'>;
}

/** Open (or create) a database file; `':memory:'` makes a private in-memory database. */
export interface SqliteFileOptions extends SqliteStorageCommonOptions {
  readonly filename: string;
  readonly database?: undefined;
}

/**
 * Use a better-sqlite3 `Database` you opened. The adapter sets its pragmas (WAL for files,
 * `synchronous`, busy timeout) but does not close it: you own it. Change crmkit's tables only through
 * crmkit on this connection: the adapter counts its own writes to know when cached configuration is
 * current (`PRAGMA data_version` shows only other connections' commits); other connections may write.
 */
export interface SqliteDatabaseOptions extends SqliteStorageCommonOptions {
  readonly database: SqliteDatabase;
  readonly filename?: undefined;
}

/** Options of `createSqliteStorage`: a `filename` or an open `database`. */
export type SqliteStorageOptions = SqliteFileOptions | SqliteDatabaseOptions;

/** Validated options with defaults applied. */
export interface ResolvedSqliteOptions {
  readonly filename?: string;
  readonly database?: SqliteDatabase;
  readonly synchronous: 'normal' | 'full';
  readonly busyTimeoutMs: number;
  readonly tablePrefix: string;
  readonly statementCacheSize: number;
  readonly cacheSizeMb: number;
  readonly changePollMs: number;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
}

const CONTEXT = 'createSqliteStorage';
const KNOWN = new Set(['filename', 'database', 'synchronous', 'busyTimeoutMs', 'tablePrefix', 'statementCacheSize', 'cacheSizeMb', 'changePollMs', 'logger']);
/** Prefixes are part of identifiers: letters, digits and `_` only. */
export const TABLE_PREFIX_PATTERN = /^[a-z][a-z0-9_]{0,23}$/;

function integerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Checks `createSqliteStorage` options.
 *
 * @throws CrmError `VALIDATION` naming the offending option.
 */
export function resolveSqliteOptions(options: unknown): ResolvedSqliteOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidInput(CONTEXT, [], 'invalid_type', 'pass { filename } or { database }');
  }
  const o = readOptions(CONTEXT, options);
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw invalidInput(CONTEXT, [key], 'unknown_field', `unknown option "${key}"`);
  const hasFile = o.filename !== undefined;
  const hasDb = o.database !== undefined;
  if (hasFile === hasDb) throw invalidInput(CONTEXT, [], 'invalid_value', 'pass exactly one of { filename } or { database }');
  if (hasFile && (typeof o.filename !== 'string' || o.filename.length === 0 || o.filename.includes('\u0000'))) {
    throw invalidInput(CONTEXT, ['filename'], 'invalid_type', 'must be a non-empty path or ":memory:"');
  }
  if (hasDb) {
    const db = o.database as Partial<SqliteDatabase> | null;
    if (typeof db !== 'object' || db === null || typeof db.prepare !== 'function' || typeof db.pragma !== 'function' || typeof db.exec !== 'function') {
      throw invalidInput(CONTEXT, ['database'], 'invalid_type', 'must be an open better-sqlite3 Database');
    }
  }
  if (o.synchronous !== undefined && o.synchronous !== 'normal' && o.synchronous !== 'full') {
    throw invalidInput(CONTEXT, ['synchronous'], 'invalid_value', 'must be "normal" or "full"');
  }
  if (o.busyTimeoutMs !== undefined && !integerIn(o.busyTimeoutMs, 0, 600_000)) {
    throw invalidInput(CONTEXT, ['busyTimeoutMs'], 'invalid_value', 'must be an integer from 0 to 600000');
  }
  if (o.statementCacheSize !== undefined && !integerIn(o.statementCacheSize, 1, 100_000)) {
    throw invalidInput(CONTEXT, ['statementCacheSize'], 'invalid_value', 'must be an integer from 1 to 100000');
  }
  if (o.cacheSizeMb !== undefined && !integerIn(o.cacheSizeMb, 1, 65_536)) {
    throw invalidInput(CONTEXT, ['cacheSizeMb'], 'invalid_value', 'must be an integer from 1 to 65536');
  }
  if (o.tablePrefix !== undefined && (typeof o.tablePrefix !== 'string' || !TABLE_PREFIX_PATTERN.test(o.tablePrefix))) {
    throw invalidInput(CONTEXT, ['tablePrefix'], 'invalid_value', 'must be lowercase letters, digits and "_", starting with a letter');
  }
  if (o.changePollMs !== undefined && !integerIn(o.changePollMs, 0, 3_600_000)) {
    throw invalidInput(CONTEXT, ['changePollMs'], 'invalid_value', 'must be an integer from 0 (off) to 3600000');
  }
  if (o.logger !== undefined) {
    const logger = o.logger as Partial<Logger> | null;
    if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
      throw invalidInput(CONTEXT, ['logger'], 'invalid_type', 'must have warn and error functions');
    }
  }
  return {
    ...(hasFile ? { filename: o.filename as string } : { database: o.database as SqliteDatabase }),
    changePollMs: (o.changePollMs as number | undefined) ?? 100,
    synchronous: (o.synchronous as 'normal' | 'full' | undefined) ?? 'normal',
    busyTimeoutMs: (o.busyTimeoutMs as number | undefined) ?? 5000,
    tablePrefix: (o.tablePrefix as string | undefined) ?? '',
    statementCacheSize: (o.statementCacheSize as number | undefined) ?? 256,
    cacheSizeMb: (o.cacheSizeMb as number | undefined) ?? 16,
    logger: (o.logger as Pick<Logger, 'warn' | 'error'> | undefined) ?? consoleLogger,
  };
}
