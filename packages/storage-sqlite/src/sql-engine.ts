import type { Change, ChangeBatch, Row, StorageSchema, WriteOp } from '@crmkit/core/storage';
import type { MigrationExecutor } from './migrations.js';
import type { SqlQuery } from './query-compiler.js';
import type { SqlDialect } from './sql-dialect.js';
import type { EntityTable, StorageLayout } from './table-layout.js';

/**
 * One engine transaction on one connection. Methods are only called in sequence by the adapter's
 * transaction object, never after `commit`/`rollback`.
 */
export interface SqlSession {
  /**
   * Runs a compiled SELECT and returns its rows as arrays of column values. Synchronous engines
   * (better-sqlite3) return values directly: an extra promise per statement is measurable on point reads.
   */
  select(query: SqlQuery): unknown[][] | Promise<unknown[][]>;
  /** Reads the stored documents of `ids` (any order, missing ids absent). */
  readDocs(table: EntityTable, tenantId: string, ids: readonly string[]): Map<string, Row> | Promise<Map<string, Row>>;
  /** Optional: `readDocs` of one id, without a map (point reads are the commonest read). */
  readDoc?(table: EntityTable, tenantId: string, id: string): Row | undefined | Promise<Row | undefined>;
  /**
   * Applies `ops` in order. Must throw `CrmError` `CONFLICT` (built with core's `checkWriteVersion`)
   * on the first failed version check; the adapter then rolls the whole transaction back.
   * `previous` gives the row this transaction last read or wrote for an id (the stored row, when its
   * version is the expected one), so an engine may skip reading it again; the version check stays.
   */
  write(table: EntityTable, tenantId: string, ops: readonly WriteOp[], previous?: (id: string) => Row | undefined): Promise<void>;
  /**
   * Adds `count` to the counter (tenant, name) and returns the first number reserved. Must keep the
   * counter's row locked until the transaction ends (an UPDATE does), so reservations commit in order.
   */
  nextSequence(tenantId: string, name: string, count: number): number | Promise<number>;
  /**
   * Takes the tenant's keyed locks `keys` (distinct, sorted: one order in every transaction), `shared`
   * or exclusive, until the transaction ends (`StorageTx.lockKeys`). Absent where `rw` transactions
   * never overlap (SQLite).
   */
  lockKeys?(tenantId: string, keys: readonly string[], shared?: boolean): Promise<void>;
  /** `StorageTx.setOwnerKeys` (engines whose layout keeps owner keys). */
  setOwnerKeys?(tenantId: string, keys: Readonly<Record<string, string | null>>, all: boolean): void | Promise<void>;
  /**
   * `StorageTx.changeMark` of `table`'s rows (engines that can tell; PostgreSQL cannot: other sessions
   * commit without a trace this session could read more cheaply than the rows).
   */
  changeMark?(table: EntityTable): string;
  /**
   * Publishes the transaction's changes to other connections, inside the transaction, just before
   * `commit`: they must reach other connections if and only if the transaction commits.
   */
  publish(changes: readonly Change[]): void | Promise<void>;
  commit(): void | Promise<void>;
  /** Must not throw: the transaction is being abandoned anyway. */
  rollback(): void | Promise<void>;
  /** Gives the connection back; called exactly once, after commit or rollback. */
  release(): void;
}

/** A database engine behind the shared SQL adapter: SQLite or PostgreSQL. */
export interface SqlEngine {
  readonly name: 'sqlite' | 'postgres';
  readonly dialect: SqlDialect;
  /** True when every transaction shares one connection and must run alone (SQLite). */
  readonly serializeReads: boolean;
  /** Connects (loading the driver when needed) and migrates to `schema`. */
  open(schema: StorageSchema, layout: StorageLayout): Promise<void>;
  /**
   * Runs schema changes after `open` (runtime indexes) in the engine's exclusive migration transaction:
   * SQLite `BEGIN IMMEDIATE`, PostgreSQL a transaction under the migration advisory lock, so they
   * serialise with migrations of other processes. Called while no transaction of the adapter runs.
   */
  ddl(run: (exec: MigrationExecutor) => Promise<void>): Promise<void>;
  /**
   * Reads documents by id in one statement outside any transaction (autocommit: the statement is its
   * own snapshot). Only called while no transaction of the adapter holds the engine's connection.
   */
  readDocs(table: EntityTable, tenantId: string, ids: readonly string[]): Map<string, Row> | Promise<Map<string, Row>>;
  /** Optional: `readDocs` of one id outside any transaction, without a map. */
  readDoc?(table: EntityTable, tenantId: string, id: string): Row | undefined | Promise<Row | undefined>;
  /** Runs one compiled SELECT outside any transaction, like `readDocs` (rows as arrays of column values). */
  select(query: SqlQuery): unknown[][] | Promise<unknown[][]>;
  /** Starts a transaction: `rw` takes the engine's write lock, `r` sees one consistent snapshot. */
  begin(mode: 'r' | 'rw'): SqlSession | Promise<SqlSession>;
  /**
   * Starts reporting what other connections commit, as `external` batches in commit order; returns
   * the function that stops it. `exclusive` runs work while no transaction of this adapter runs
   * (engines with one connection poll through it). Absent: the engine cannot see other connections.
   */
  watch?(emit: (batch: ChangeBatch) => void, exclusive: <T>(work: () => T | Promise<T>) => Promise<T>): () => void;
  /** Releases connections the engine owns. Called once, when no transaction runs. */
  /** The database server's clock in epoch ms (engines whose server other hosts share). */
  databaseTime?(): Promise<number>;
  close(): Promise<void>;
}
