import type { PgPool } from './postgres-driver.js';
import { TABLE_PREFIX_PATTERN } from './sqlite-storage-config.js';
import { invalidInput, readOptions } from './storage-errors.js';

/** Options shared by both ways to open PostgreSQL storage. */
export interface PostgresStorageCommonOptions {
  /** PostgreSQL schema for crmkit's tables, created if missing (default: the connection's `current_schema()`). */
  readonly schema?: string;
  /** Prefix for every table name (default none). */
  readonly tablePrefix?: string;
  /**
   * How other processes' commits reach `onChange` (and observers), default `'notify'`:
   * - `'notify'`: each write transaction sends its change list with `pg_notify`; a listener connection
   *   `LISTEN`s and reports exactly what changed, at commit.
   * - `'poll'`: no `pg_notify` is sent (CockroachDB, YugabyteDB and poolers in transaction mode do
   *   not support LISTEN/NOTIFY); the adapter polls the change feed's watermark every `changePollMs`
   *   and reports other processes' commits as a `resync` batch naming the tenants whose feed moved
   *   (listeners of those tenants re-read what they show; listeners of others ignore it).
   * - `false`: neither; `capabilities.externalChanges` is false (one process per database).
   */
  readonly externalChanges?: 'notify' | 'poll' | false;
  /** Interval of the `'poll'` mode in ms, 10–60000 (default 1000). Each look is one small statement. */
  readonly changePollMs?: number;
}

/** Connect with a connection string; the adapter owns the pool and ends it on `close()`. */
export interface PostgresConnectionOptions extends PostgresStorageCommonOptions {
  readonly connectionString: string;
  /**
   * Pool size (default 10); at least 2 with `externalChanges: 'notify'`, whose listener holds one
   * connection while anything observes (consumers, webhooks, `onChange`).
   */
  readonly maxConnections?: number;
  readonly pool?: undefined;
}

/**
 * Use a node-postgres `Pool` you made; `close()` leaves it open (you own it). With `externalChanges:
 * 'notify'` its `max` must be at least 2 (the listener holds one connection).
 */
export interface PostgresPoolOptions extends PostgresStorageCommonOptions {
  readonly pool: PgPool;
  readonly connectionString?: undefined;
  readonly maxConnections?: undefined;
}

/** Options of `createPostgresStorage`: a `connectionString` or a `pool`. */
export type PostgresStorageOptions = PostgresConnectionOptions | PostgresPoolOptions;

/** Validated options with defaults applied. */
export interface ResolvedPostgresOptions {
  readonly pool?: PgPool;
  readonly connectionString?: string;
  readonly maxConnections: number;
  readonly schema?: string;
  readonly tablePrefix: string;
  readonly externalChanges: 'notify' | 'poll' | false;
  readonly changePollMs: number;
}

const CONTEXT = 'createPostgresStorage';
const KNOWN = new Set(['pool', 'connectionString', 'maxConnections', 'schema', 'tablePrefix', 'externalChanges', 'changePollMs']);
/** Schema names become identifiers: lowercase letters, digits and `_`. */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

/**
 * Checks `createPostgresStorage` options.
 *
 * @throws CrmError `VALIDATION` naming the offending option.
 */
export function resolvePostgresOptions(options: unknown): ResolvedPostgresOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidInput(CONTEXT, [], 'invalid_type', 'pass { connectionString } or { pool }');
  }
  const o = readOptions(CONTEXT, options);
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw invalidInput(CONTEXT, [key], 'unknown_field', `unknown option "${key}"`);
  const hasUrl = o.connectionString !== undefined;
  const hasPool = o.pool !== undefined;
  if (hasUrl === hasPool) throw invalidInput(CONTEXT, [], 'invalid_value', 'pass exactly one of { connectionString } or { pool }');
  if (hasUrl && (typeof o.connectionString !== 'string' || o.connectionString.length === 0)) {
    throw invalidInput(CONTEXT, ['connectionString'], 'invalid_type', 'must be a non-empty connection string');
  }
  if (hasPool) {
    const pool = o.pool as Partial<PgPool> | null;
    if (typeof pool !== 'object' || pool === null || typeof pool.connect !== 'function' || typeof pool.end !== 'function') {
      throw invalidInput(CONTEXT, ['pool'], 'invalid_type', 'must be a pg Pool');
    }
    if (o.maxConnections !== undefined) throw invalidInput(CONTEXT, ['maxConnections'], 'invalid_value', 'set the size on your own pool');
  }
  if (o.maxConnections !== undefined && !(typeof o.maxConnections === 'number' && Number.isInteger(o.maxConnections) && o.maxConnections >= 1 && o.maxConnections <= 1000)) {
    throw invalidInput(CONTEXT, ['maxConnections'], 'invalid_value', 'must be an integer from 1 to 1000');
  }
  if (o.schema !== undefined && (typeof o.schema !== 'string' || !SCHEMA_PATTERN.test(o.schema) || o.schema.startsWith('pg_'))) {
    throw invalidInput(CONTEXT, ['schema'], 'invalid_value', 'must be lowercase letters, digits and "_" (not starting with pg_)');
  }
  if (o.tablePrefix !== undefined && (typeof o.tablePrefix !== 'string' || !TABLE_PREFIX_PATTERN.test(o.tablePrefix))) {
    throw invalidInput(CONTEXT, ['tablePrefix'], 'invalid_value', 'must be lowercase letters, digits and "_", starting with a letter');
  }
  if (o.externalChanges !== undefined && o.externalChanges !== 'notify' && o.externalChanges !== 'poll' && o.externalChanges !== false) {
    throw invalidInput(CONTEXT, ['externalChanges'], 'invalid_value', "must be 'notify', 'poll' or false");
  }
  if (o.changePollMs !== undefined && !(typeof o.changePollMs === 'number' && Number.isInteger(o.changePollMs) && o.changePollMs >= 10 && o.changePollMs <= 60_000)) {
    throw invalidInput(CONTEXT, ['changePollMs'], 'invalid_value', 'must be an integer from 10 to 60000 (ms)');
  }
  // 'notify' keeps one connection LISTENing while anything observes: with a single connection every
  // transaction would wait for it forever.
  const poolMax = hasPool ? (o.pool as { options?: { max?: unknown } }).options?.max : o.maxConnections;
  if ((o.externalChanges ?? 'notify') === 'notify' && typeof poolMax === 'number' && poolMax < 2) {
    throw invalidInput(CONTEXT, [hasPool ? 'pool' : 'maxConnections'], 'invalid_value', "needs at least 2 connections with externalChanges: 'notify' (one LISTENs while observers, consumers or webhooks run); use a larger pool or externalChanges: 'poll' or false");
  }
  if (o.changePollMs !== undefined && o.externalChanges !== 'poll') {
    throw invalidInput(CONTEXT, ['changePollMs'], 'invalid_value', "only applies with externalChanges: 'poll'");
  }
  return {
    externalChanges: (o.externalChanges as 'notify' | 'poll' | false | undefined) ?? 'notify',
    changePollMs: (o.changePollMs as number | undefined) ?? 1000,
    ...(hasUrl ? { connectionString: o.connectionString as string } : { pool: o.pool as PgPool }),
    maxConnections: (o.maxConnections as number | undefined) ?? 10,
    ...(o.schema !== undefined ? { schema: o.schema as string } : {}),
    tablePrefix: (o.tablePrefix as string | undefined) ?? '',
  };
}
