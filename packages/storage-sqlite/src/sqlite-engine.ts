import { randomUUID } from 'node:crypto';
import { CrmError, type Logger } from '@crmkit/core';
import { checkWriteVersion, uniqueConflict, type Change, type ChangeBatch, type Row, type StorageSchema, type WriteOp } from '@crmkit/core/storage';
import { sql, type CompiledQuery } from 'kysely';
import { migrate, type MigrationExecutor } from './migrations.js';
import { columnValue, docText, fillColumnValues, listValues } from './row-values.js';
import { createSqliteDialect } from './sqlite-dialect.js';
import { loadBetterSqlite3, type SqliteDatabase, type SqliteDatabaseConstructor, type SqliteStatement } from './sqlite-driver.js';
import type { SqlEngine, SqlSession } from './sql-engine.js';
import { StatementCache } from './statement-cache.js';
import type { SqlFragment } from './sql-dialect.js';
import { isSqliteBusy, storageFailure } from './storage-errors.js';
import type { EntityTable, ListTable, StorageLayout } from './table-layout.js';

/** How the SQLite engine connects and behaves; validated by `createSqliteStorage`. */
export interface SqliteEngineOptions {
  readonly filename?: string;
  readonly database?: SqliteDatabase;
  readonly synchronous: 'normal' | 'full';
  readonly busyTimeoutMs: number;
  readonly statementCacheSize: number;
  readonly cacheSizeMb: number;
  /** How often other connections' commits are looked for (ms); 0 turns watching off. */
  readonly changePollMs: number;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
}

/** Journal entries older than this are pruned; a watcher that slept longer gets a `resync` batch. */
const JOURNAL_RETENTION_MS = 10 * 60_000;
/**
 * A watcher's registration counts for this long after its last heartbeat (processes on one SQLite file
 * share the machine's clock); one whose heartbeat was later than that assumes it missed changes.
 */
const WATCHER_TTL_MS = JOURNAL_RETENTION_MS;
/** How often a watcher renews its registration, and how often a writer looks again for lapsed ones. */
const WATCHER_BEAT_MS = 60_000;
/** A transaction with more changes journals a `resync` marker instead of the list. */
const JOURNAL_MAX_CHANGES = 2000;

/** A change as journaled: [entity, tenantId, id, 'p' | 'd']. */
type JournalChange = [string, string, string, 'p' | 'd'];

interface ListStatements {
  readonly list: ListTable;
  readonly insert: SqliteStatement;
  readonly deleteRow: SqliteStatement;
  readonly values: SqliteStatement;
  /** Unique lists: the other row of the tenant holding a value (`tenant_id`, `value`, own id). */
  readonly holder?: SqliteStatement;
}

/** Statements prepared once per entity: the hot paths bypass compilation entirely. */
interface EntityStatements {
  readonly insert: SqliteStatement;
  /** The stored version and field columns of a row, to update only what changed. */
  readonly current: SqliteStatement;
  /** UPDATE statements by the set of changed columns (a bitmask string), prepared on first use. */
  readonly updates: Map<string, SqliteStatement>;
  readonly deleteAny: SqliteStatement;
  readonly deleteVersioned: SqliteStatement;
  readonly version: SqliteStatement;
  readonly getOne: SqliteStatement;
  readonly getMany: SqliteStatement;
  readonly lists: readonly ListStatements[];
}

/** The longest single blocking wait inside SQLite; longer waits are async sleeps that keep the event loop free. */
const ENGINE_WAIT_MS = 25;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * What a connection committed itself, which its `PRAGMA data_version` does not show: writes per entity
 * and an epoch for every other change (DDL, claims, owner keys). Kept per connection, not per engine,
 * so adapters sharing a host's connection see each other's writes.
 */
interface LocalWrites {
  readonly id: number;
  epoch: number;
  readonly entities: Map<string, number>;
}
const localWrites = new WeakMap<SqliteDatabase, LocalWrites>();
let connections = 0;

function localWritesOf(c: SqliteDatabase): LocalWrites {
  let local = localWrites.get(c);
  if (!local) localWrites.set(c, (local = { id: ++connections, epoch: 0, entities: new Map() }));
  return local;
}

/**
 * The SQLite engine on one better-sqlite3 connection.
 *
 * - File databases use WAL (readers never block the writer), `synchronous=NORMAL` (durable across
 *   process crashes; `full` also survives power loss), a short engine busy timeout and a 16 MiB page
 *   cache (SQLite's default 2 MiB makes random point reads of a CRM-sized database miss the cache; 32 MiB
 *   plus as much for the sorter of a GROUP BY over a million deals took a process past 150 MB).
 * - `rw` transactions start with `BEGIN IMMEDIATE`, taking the write lock up front, so writers of
 *   several processes serialise and a transaction never fails half-way on a lock. While another
 *   process holds the lock, the engine retries with exponential backoff (async sleeps) for up to
 *   `busyTimeoutMs`, then fails with `STORAGE` `retryable: true`: `SQLITE_BUSY` never reaches callers.
 * - `r` transactions use a deferred `BEGIN` (one snapshot across their reads); in-memory databases skip
 *   it, because nothing else can write them and the adapter already runs their transactions one by one.
 * - Point reads and writes use statements prepared once per entity; compiled queries are prepared
 *   once per SQL text and cached.
 */
export function createSqliteEngine(options: SqliteEngineOptions): SqlEngine {
  const dialect = createSqliteDialect();
  let db: SqliteDatabase | undefined;
  let cache: StatementCache<SqliteStatement> | undefined;
  let control: { begin: SqliteStatement; beginImmediate: SqliteStatement; commit: SqliteStatement; rollback: SqliteStatement; dataVersion: SqliteStatement } | undefined;
  /** Entities the current transaction wrote (counted again when it ends: see `changeMark`). */
  let wrote: Set<string> | undefined;
  /** Counts a local change of `entity` (undefined: of anything) on the connection. */
  function touch(entity: string | undefined): void {
    const local = localWritesOf(connection());
    if (entity === undefined) local.epoch++;
    else {
      local.entities.set(entity, (local.entities.get(entity) ?? 0) + 1);
      (wrote ??= new Set()).add(entity);
    }
  }
  /** The end of a transaction that wrote: a mark taken inside it (its own uncommitted rows) is not reused. */
  function settleWrites(): void {
    if (!wrote || !db) return;
    const local = localWritesOf(db);
    for (const entity of wrote) local.entities.set(entity, (local.entities.get(entity) ?? 0) + 1);
    wrote = undefined;
  }
  let statements = new Map<string, EntityStatements>();
  let sequence: { next: SqliteStatement } | undefined;
  let journal:
    | {
        insert: SqliteStatement;
        prune: SqliteStatement;
        after: SqliteStatement;
        last: SqliteStatement;
        dataVersion: SqliteStatement;
        /** Another connection's live registration, if any (origin ≠ ours, heartbeat ≥ a time). */
        others: SqliteStatement;
        register: SqliteStatement;
        beat: SqliteStatement;
        unregister: SqliteStatement;
        expire: SqliteStatement;
      }
    | undefined;
  // Identifies this connection's journal entries (its own watcher skips them) and its watcher registration.
  const origin = randomUUID();
  let published = 0;
  /**
   * Whether another connection watches the journal, as last read from the registry; read again when
   * `PRAGMA data_version` moved (a registration is another connection's commit) or `recheckAt` passed
   * (registrations lapse). Without watchers a commit journals nothing: an entry, a statement and a page
   * per commit that no one would read (most of what a single process paid for external changes).
   */
  let othersWatch = true;
  let watchedVersion: unknown;
  let recheckAt = 0;
  /** True while this connection's watcher is registered (close() unregisters it). */
  let registered = false;
  /** The warning that a watcher cannot register (read-only connection) is logged once per adapter. */
  let warnedUnregistered = false;
  /** Counts watcher starts: a stopped watcher unregisters only if no newer one started meanwhile. */
  let watchGeneration = 0;
  /** Kept to reconnect: the driver and the tables the statements are prepared for. */
  let driver: SqliteDatabaseConstructor | undefined;
  let currentLayout: StorageLayout | undefined;
  const logger = options.logger;

  const compile = (fragment: SqlFragment): CompiledQuery => fragment.compile(dialect.kysely);

  /** Waits out SQLITE_BUSY with backoff for up to `busyTimeoutMs`. */
  async function retryBusy<T>(operation: string, fn: () => T): Promise<T> {
    const started = Date.now();
    let delay = 2;
    for (;;) {
      try {
        return fn();
      } catch (error) {
        if (!isSqliteBusy(error)) throw error;
        if (Date.now() - started >= options.busyTimeoutMs) {
          throw new CrmError(
            'STORAGE',
            `The SQLite database stayed locked by another connection for ${options.busyTimeoutMs} ms (${operation}); try again`,
            { adapter: 'sqlite', retryable: true, operation },
            { cause: error },
          );
        }
        await sleep(delay + Math.random() * delay);
        delay = Math.min(delay * 2, 100);
      }
    }
  }

  function connection(): SqliteDatabase {
    if (!db || !db.open) throw storageFailure('sqlite', 'transaction', 'The SQLite database is not open');
    return db;
  }

  function prepareEntity(t: EntityTable): EntityStatements {
    const c = connection();
    const prepare = (fragment: SqlFragment) => c.prepare(compile(fragment).sql);
    const reader = (fragment: SqlFragment) => prepare(fragment).raw(true);
    const table = dialect.table(t.table);
    const columns = ['tenant_id', 'id', 'version', 'doc', ...t.columns.map((col) => col.column)];
    const slot = sql`${null}`;
    const key = sql`"tenant_id" = ${null} AND "id" = ${null}`;
    // The owner's key, read in the INSERT itself (tenant and owner bound after the columns).
    const owned = t.ownerKey ? [[sql.id(t.ownerKey.column), ownerKeyOf(currentLayout!)]] as const : [];
    return {
      insert: prepare(
        sql`INSERT INTO ${table} (${sql.join([...columns.map((col) => sql.id(col)), ...owned.map(([c]) => c)])}) VALUES (${sql.join([...columns.map(() => slot), ...owned.map(([, v]) => v)])}) ON CONFLICT ("tenant_id", "id") DO NOTHING`,
      ),
      current: reader(sql`SELECT ${sql.join(['version', ...t.columns.map((col) => col.column)].map((col) => sql.id(col)))} FROM ${table} WHERE ${key}`),
      updates: new Map(),
      deleteAny: prepare(sql`DELETE FROM ${table} WHERE ${key}`),
      deleteVersioned: prepare(sql`DELETE FROM ${table} WHERE ${key} AND "version" = ${null}`),
      version: reader(sql`SELECT "version" FROM ${table} WHERE ${key}`),
      getOne: reader(sql`SELECT "doc" FROM ${table} WHERE ${key}`),
      getMany: reader(sql`SELECT "id", "doc" FROM ${table} WHERE "tenant_id" = ${null} AND "id" IN (SELECT "value" FROM json_each(${null}))`),
      lists: [...t.lists.values()].map((list) => ({
        list,
        // A unique list ignores only repeats of the same (tenant, value, id): its UNIQUE index must still fire.
        insert: prepare(
          list.uniqueIndex
            ? sql`INSERT INTO ${dialect.table(list.table)} ("tenant_id", "value", "id") VALUES (${null}, ${null}, ${null}) ON CONFLICT ("tenant_id", "value", "id") DO NOTHING`
            : sql`INSERT INTO ${dialect.table(list.table)} ("tenant_id", "value", "id") VALUES (${null}, ${null}, ${null}) ON CONFLICT DO NOTHING`,
        ),
        deleteRow: prepare(sql`DELETE FROM ${dialect.table(list.table)} WHERE ${key}`),
        values: reader(sql`SELECT "value" FROM ${dialect.table(list.table)} WHERE ${key}`),
        ...(list.uniqueIndex ? { holder: reader(sql`SELECT "id" FROM ${dialect.table(list.table)} WHERE "tenant_id" = ${null} AND "value" = ${null} AND "id" <> ${null}`) } : {}),
      })),
    };
  }

  /**
   * The UPDATE that sets `version`, `doc` and only the changed field columns. SQLite rewrites every
   * index that covers a column named in SET, changed or not: naming only changed columns made a
   * committed single-row update of a deal about 3× cheaper in measurements.
   */
  function updateStatement(t: EntityTable, s: EntityStatements, changed: readonly number[]): SqliteStatement {
    const key = changed.join(',');
    let statement = s.updates.get(key);
    if (!statement) {
      const sets = ['version', 'doc', ...changed.map((i) => t.columns[i]!.column)].map((col) => sql`${sql.id(col)} = ${null}`);
      // A new owner: its key, read in the UPDATE (tenant and owner bound after the changed columns).
      if (t.ownerKey && changed.includes(t.ownerKey.owner)) sets.push(sql`${sql.id(t.ownerKey.column)} = ${ownerKeyOf(currentLayout!)}`);
      statement = connection().prepare(compile(sql`UPDATE ${dialect.table(t.table)} SET ${sql.join(sets)} WHERE "tenant_id" = ${null} AND "id" = ${null} AND "version" = ${null}`).sql);
      // Services change a handful of column sets; the bound only guards against pathological callers.
      if (s.updates.size >= 256) s.updates.clear();
      s.updates.set(key, statement);
    }
    return statement;
  }

  /** The key of the row's owner: `(SELECT …)` over the owner-key table, bound with tenant and owner. */
  function ownerKeyOf(layout: StorageLayout): SqlFragment {
    return sql`(SELECT "key" FROM ${dialect.table(layout.ownerKeys)} WHERE "tenant_id" = ${null} AND "user_id" = ${null})`;
  }

  function statementsOf(t: EntityTable): EntityStatements {
    const s = statements.get(t.entity);
    if (!s) throw storageFailure('sqlite', 'transaction', `No statements for entity "${t.entity}"`);
    return s;
  }

  function conflictFor(t: EntityTable, s: EntityStatements, tenantId: string, op: WriteOp): never {
    const id = op.type === 'delete' ? op.id : op.row.id;
    const found = s.version.get(tenantId, id) as unknown[] | undefined;
    const stored = found ? ({ id, tenantId, version: Number(found[0]) } as Row) : undefined;
    checkWriteVersion(t.entity, op, stored);
    // checkWriteVersion throws for every failed write; reaching here means the engine disagreed with itself.
    throw storageFailure('sqlite', 'write', `The write of ${t.entity} ${id} changed no row`);
  }

  /** Writes a row's list values; on replace, only lists that changed (compared with `previous` when known, else the stored values). */
  function writeLists(t: EntityTable, s: EntityStatements, tenantId: string, row: Row, replace: boolean, previous?: Row): void {
    for (const { list, insert, deleteRow, values: stored, holder } of s.lists) {
      // The same top-level value as the row it revises: the same list (as for field columns).
      if (replace && previous && (previous as Record<string, unknown>)[list.segments[0]!] === (row as Record<string, unknown>)[list.segments[0]!]) continue;
      const values = listValues(list, row);
      if (replace) {
        const before = previous ? listValues(list, previous) : (stored.all(tenantId, row.id) as unknown[][]).map(([v]) => v as string);
        if (before.length === values.length && before.every((v) => values.includes(v))) continue;
        deleteRow.run(tenantId, row.id);
      }
      for (const value of values) {
        // One writer at a time (BEGIN IMMEDIATE): the holder read here is the one the UNIQUE index would meet.
        const other = holder?.get(tenantId, value, row.id) as unknown[] | undefined;
        if (other) throw uniqueConflict(t.entity, row.id, list.field, value, String(other[0]));
        insert.run(tenantId, value, row.id);
      }
    }
  }

  function readDoc(s: EntityStatements, tenantId: string, id: string): Row | undefined {
    const found = s.getOne.get(tenantId, id) as unknown[] | undefined;
    return found && dialect.readDoc(found[0]);
  }

  function readDocs(s: EntityStatements, tenantId: string, ids: readonly string[]): Map<string, Row> {
    const docs = new Map<string, Row>();
    if (ids.length === 1) {
      const found = readDoc(s, tenantId, ids[0]!);
      if (found) docs.set(ids[0]!, found);
      return docs;
    }
    for (const [id, doc] of s.getMany.all(tenantId, JSON.stringify(ids)) as unknown[][]) docs.set(id as string, dialect.readDoc(doc));
    return docs;
  }

  /**
   * Polls for other connections' commits: `PRAGMA data_version` (which changes only when another
   * connection committed) every `changePollMs`, and when it moved, the journal entries after the last
   * one seen, skipping this connection's own. Entries pruned before they were read (the process slept
   * past the retention) become one `resync` batch.
   *
   * The watcher registers its connection in the registry table first (writers journal only while
   * another connection is registered) and renews the registration every `WATCHER_BEAT_MS`. When a
   * renewal comes later than `WATCHER_TTL_MS` after the last one, or finds the registration gone,
   * writers may have skipped journaling meanwhile: the watcher registers again and emits `resync`.
   */
  function watchJournal(emit: (batch: ChangeBatch) => void, exclusive: <T>(work: () => T | Promise<T>) => Promise<T>): () => void {
    const generation = ++watchGeneration;
    let stopped = false;
    let seen: number | undefined;
    /** `PRAGMA data_version` as last read, and the connection it was read on (the values are per connection). */
    let version: unknown;
    let versionOf: SqliteDatabase | undefined;
    let beatAt = 0;
    /** Set while the connection cannot register (read-only): every commit of another connection is a `resync`. */
    let retryRegisterAt: number | undefined;
    /** Batches of a start made inside `onChange`, emitted by the first round. */
    let pending: ChangeBatch[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const resync = (): ChangeBatch => ({ source: 'external', changes: [], resync: true });
    /** Reads `PRAGMA data_version`; true when another connection committed since the last read (or it is unknown). */
    const moved = (j: NonNullable<typeof journal>): boolean => {
      const [now] = j.dataVersion.get() as [unknown];
      const changed = versionOf !== db || now !== version;
      version = now;
      versionOf = db;
      return changed;
    };
    // The subscription's baseline (a read: never blocked by a writer). A writer that found no registration
    // journals nothing, so any commit of another connection between now and the registration is a `resync`.
    try {
      if (journal) moved(journal);
    } catch {
      versionOf = undefined; // unknown: the start reports a resync
    }
    /**
     * The start: entries after the last one are ours to report; then the registration (autocommit), from
     * which on every writer journals. A commit of another connection since the subscription may have
     * journaled nothing (its writer saw no registration): then the start returns one `resync`. Throws
     * SQLITE_BUSY while another connection writes: the next round starts again. A connection that cannot
     * write (read-only) cannot register: it polls `data_version` instead, each move a `resync`.
     */
    const start = (j: NonNullable<typeof journal>, at: number): ChangeBatch[] => {
      const last = Number((j.last.get() as [number])[0]);
      try {
        j.expire.run(at - WATCHER_TTL_MS);
        j.register.run(origin, at);
      } catch (error) {
        if (isSqliteBusy(error)) throw error;
        if (!warnedUnregistered) {
          warnedUnregistered = true;
          logger.warn('crmkit: SQLite cannot register its change watcher (read-only connection?); every commit of another connection is reported as a resync', { error });
        }
        retryRegisterAt = at + WATCHER_BEAT_MS;
        return moved(j) ? [resync()] : [];
      }
      retryRegisterAt = undefined;
      registered = true;
      seen = last;
      beatAt = at;
      return moved(j) ? [resync()] : [];
    };
    const read = (): ChangeBatch[] => {
      if (!journal || stopped) return [];
      const batches: ChangeBatch[] = [];
      const at = Date.now();
      if (seen === undefined) {
        if (retryRegisterAt !== undefined && at < retryRegisterAt) {
          if (moved(journal)) batches.push(resync());
          return batches;
        }
        batches.push(...start(journal, at));
        return batches;
      }
      if (at - beatAt >= WATCHER_BEAT_MS) {
        const lapsed = journal.beat.run(at, origin).changes === 0 || at - beatAt > WATCHER_TTL_MS;
        if (lapsed) {
          journal.register.run(origin, at);
          batches.push(resync());
        }
        registered = true;
        beatAt = at;
      }
      const [now] = journal.dataVersion.get() as [unknown];
      if (versionOf === db && now === version) return batches;
      for (;;) {
        const rows = journal.after.all(seen) as [number, string, string | null][];
        if (rows.length === 0) break;
        if (rows[0]![0] !== seen + 1) batches.push(resync());
        for (const [seq, from, text] of rows) {
          seen = seq;
          if (from === origin) continue;
          if (text === null) batches.push(resync());
          else {
            const changes = (JSON.parse(text) as JournalChange[]).map(([entity, tenantId, id, op]): Change => ({ entity, tenantId, id, op: op === 'd' ? 'delete' : 'put' }));
            if (changes.length) batches.push({ source: 'external', changes });
          }
        }
        if (rows.length < 500) break;
      }
      version = now;
      versionOf = db;
      return batches;
    };
    const tick = async () => {
      timer = undefined;
      if (stopped) return;
      try {
        const batches = await exclusive(read);
        if (pending.length) batches.unshift(...pending.splice(0));
        for (const batch of batches) if (!stopped) emit(batch);
      } catch {
        // Closed or busy: the next round tries again (close() stops the watcher).
      }
      if (!stopped) {
        timer = setTimeout(() => void tick(), options.changePollMs);
        (timer as { unref?: () => void }).unref?.();
      }
    };
    // Start at once when the connection is idle, so that commits from now on are reported (a writer that
    // began before the registration would not journal); else, or when another connection holds the write
    // lock, the first round starts. No busy wait here: onChange must not block.
    const c = db;
    if (journal && c?.open && !c.inTransaction) {
      c.pragma('busy_timeout = 0');
      try {
        pending = start(journal, Date.now());
      } catch {
        // Busy: the first round tries again.
      } finally {
        c.pragma(`busy_timeout = ${Math.min(ENGINE_WAIT_MS, options.busyTimeoutMs)}`);
      }
    }
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      // Writers stop journaling for us (close() unregisters itself when the adapter is closing).
      exclusive(() => generation === watchGeneration && unregister()).catch(() => undefined);
    };
  }

  /** Removes this connection's watcher registration (best effort: a leftover one lapses after `WATCHER_TTL_MS`). */
  function unregister(): void {
    if (!registered || !journal) return;
    registered = false;
    try {
      journal.unregister.run(origin);
    } catch {
      // Busy or closing: the registration lapses.
    }
  }

  /** Pragmas, the statement cache and the transaction statements of a (new) connection. */
  function configure(c: SqliteDatabase): void {
    // `PRAGMA data_version` values are per connection: what the old one cached about watchers says nothing here.
    othersWatch = true;
    watchedVersion = undefined;
    recheckAt = 0;
    c.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    c.pragma(`busy_timeout = ${Math.min(ENGINE_WAIT_MS, options.busyTimeoutMs)}`);
    c.pragma(`cache_size = ${-options.cacheSizeMb * 1024}`);
    cache = new StatementCache(options.statementCacheSize, (text) => {
      const statement = c.prepare(text);
      return statement.reader ? statement.raw(true) : statement;
    });
    control = {
      begin: c.prepare('BEGIN'),
      beginImmediate: c.prepare('BEGIN IMMEDIATE'),
      commit: c.prepare('COMMIT'),
      rollback: c.prepare('ROLLBACK'),
      dataVersion: c.prepare('PRAGMA data_version').raw(true),
    };
  }

  /** Prepares every statement of the current layout on the current connection (after open, and after a reconnect). */
  function prepareAll(): void {
    const layout = currentLayout;
    if (!layout) return;
    const c = connection();
    const next = new Map<string, EntityStatements>();
    for (const t of layout.entities.values()) next.set(t.entity, prepareEntity(t));
    statements = next;
    const seq = dialect.table(layout.sequences);
    sequence = {
      next: c
        .prepare(
          compile(
            sql`INSERT INTO ${seq} ("tenant_id", "name", "value") VALUES (${null}, ${null}, ${null}) ON CONFLICT ("tenant_id", "name") DO UPDATE SET "value" = ${seq}."value" + excluded."value" RETURNING "value"`,
          ).sql,
        )
        .raw(true),
    };
    if (!c.memory) {
      const table = dialect.table(layout.changes);
      const watchers = dialect.table(layout.watchers);
      journal = {
        insert: c.prepare(compile(sql`INSERT INTO ${table} ("origin", "at", "changes") VALUES (${null}, ${null}, ${null})`).sql),
        // Entries are appended in `seq` order with (nearly) rising `at`: the old ones are a prefix of the
        // table, found by walking it from the start — no index on `at` to maintain on every commit.
        prune: c.prepare(compile(sql`DELETE FROM ${table} WHERE "seq" < (SELECT "seq" FROM ${table} WHERE "at" >= ${null} ORDER BY "seq" LIMIT 1)`).sql),
        after: c.prepare(compile(sql`SELECT "seq", "origin", "changes" FROM ${table} WHERE "seq" > ${null} ORDER BY "seq" LIMIT 500`).sql).raw(true),
        last: c.prepare(compile(sql`SELECT COALESCE(MAX("seq"), 0) FROM ${table}`).sql).raw(true),
        dataVersion: c.prepare('PRAGMA data_version').raw(true),
        others: c.prepare(compile(sql`SELECT 1 FROM ${watchers} WHERE "origin" <> ${null} AND "at" >= ${null} LIMIT 1`).sql).raw(true),
        register: c.prepare(compile(sql`INSERT OR REPLACE INTO ${watchers} ("origin", "at") VALUES (${null}, ${null})`).sql),
        beat: c.prepare(compile(sql`UPDATE ${watchers} SET "at" = ${null} WHERE "origin" = ${null}`).sql),
        unregister: c.prepare(compile(sql`DELETE FROM ${watchers} WHERE "origin" = ${null}`).sql),
        expire: c.prepare(compile(sql`DELETE FROM ${watchers} WHERE "at" < ${null}`).sql),
      };
    }
  }

  /**
   * Ends the transaction of a failed unit of work, whatever it takes, and reports what it took:
   * ROLLBACK; if that fails and leaves the connection inside the transaction, ROLLBACK again through a
   * freshly compiled statement; if that fails too and the adapter opened the database file itself, a
   * new connection (closing the old one discards the transaction's changes). A connection the host
   * passed in, or an in-memory database, cannot be replaced without losing data: it stays as it is and
   * the next `begin` tries again. Never throws.
   *
   * @returns true when the connection is no longer inside a transaction.
   */
  function endFailedTransaction(operation: 'rollback' | 'begin'): boolean {
    const c = db;
    if (!c?.open || !c.inTransaction) return true;
    let failure: unknown;
    try {
      control!.rollback.run();
    } catch (error) {
      failure = error;
    }
    if (!c.inTransaction) return true;
    try {
      c.exec('ROLLBACK');
    } catch (error) {
      failure ??= error;
    }
    if (!c.inTransaction) {
      logger.warn('crmkit: SQLite ROLLBACK failed; a second ROLLBACK ended the transaction', { operation, error: failure });
      return true;
    }
    if (driver && options.filename && !c.memory) {
      try {
        c.close();
        db = new driver(options.filename, { timeout: ENGINE_WAIT_MS });
        configure(db);
        prepareAll();
        logger.error('crmkit: SQLite ROLLBACK failed twice; the connection was reset (the failed transaction was discarded)', { operation, error: failure });
        return true;
      } catch (error) {
        logger.error('crmkit: SQLite ROLLBACK failed and the connection could not be reset; later transactions will fail until it can', { operation, error: failure, resetError: error });
        return false;
      }
    }
    logger.error('crmkit: SQLite ROLLBACK failed; the connection is still inside the transaction and cannot be replaced (in-memory or host-owned); the next transaction retries', { operation, error: failure });
    return false;
  }

  async function ddl(run: (exec: MigrationExecutor) => Promise<void>): Promise<void> {
    const c = connection();
    const exec: MigrationExecutor = {
      adapter: 'sqlite',
      dialect,
      async run(fragment) {
        const query = compile(fragment);
        c.prepare(query.sql).run(query.parameters);
      },
      async all(fragment) {
        const query = compile(fragment);
        return c.prepare(query.sql).raw(true).all(query.parameters) as unknown[][];
      },
    };
    await retryBusy('open', () => control!.beginImmediate.run());
    try {
      await run(exec);
      control!.commit.run();
    } catch (error) {
      if (c.inTransaction) control!.rollback.run();
      throw error;
    } finally {
      // A migration may rewrite any table: no mark taken before it is reused.
      localWritesOf(c).epoch++;
    }
  }

  const session: SqlSession = {
    select(query) {
      connection();
      const statement = cache!.get(query.sql);
      // A claim (UPDATE … RETURNING) writes through here.
      if (statement.readonly !== true) touch(undefined);
      try {
        return statement.all(query.parameters) as unknown[][];
      } catch (error) {
        if (!isSqliteBusy(error)) throw error;
        return retryBusy('query', () => statement.all(query.parameters) as unknown[][]);
      }
    },

    readDocs(t, tenantId, ids) {
      const s = statementsOf(t);
      try {
        return readDocs(s, tenantId, ids);
      } catch (error) {
        if (!isSqliteBusy(error)) throw error;
        return retryBusy('getMany', () => readDocs(s, tenantId, ids));
      }
    },

    readDoc(t, tenantId, id) {
      const s = statementsOf(t);
      try {
        return readDoc(s, tenantId, id);
      } catch (error) {
        if (!isSqliteBusy(error)) throw error;
        return retryBusy('getMany', () => readDoc(s, tenantId, id));
      }
    },

    async write(t, tenantId, ops, previous) {
      const s = statementsOf(t);
      touch(t.entity);
      const context = `sqlite write to ${t.entity}`;
      for (const op of ops) {
        if (op.type === 'insert') {
          const row = op.row;
          const params = new Array<unknown>(4 + t.columns.length);
          params[0] = tenantId;
          params[1] = row.id;
          params[2] = row.version;
          params[3] = docText(row, context);
          fillColumnValues(dialect, t, row, params, 4);
          if (t.ownerKey) params.push(tenantId, params[4 + t.ownerKey.owner]);
          if (s.insert.run(params).changes === 0) conflictFor(t, s, tenantId, op);
          if (s.lists.length) writeLists(t, s, tenantId, row, false);
        } else if (op.type === 'update') {
          const row = op.row;
          // The row as this transaction read it (it holds the write lock: that is what is stored), else a SELECT.
          let before = previous?.(row.id);
          if (before?.version !== op.expectedVersion) before = undefined;
          const stored = before ? undefined : (s.current.get(tenantId, row.id) as unknown[] | undefined);
          if (!before && (!stored || stored[0] !== op.expectedVersion)) conflictFor(t, s, tenantId, op);
          const changed: number[] = [];
          const params: unknown[] = [row.version, docText(row, context)];
          for (let i = 0; i < t.columns.length; i++) {
            // A revision shares its unchanged fields with the row it revises: the same top-level value is the same column.
            if (before) {
              const top = t.columns[i]!.segments[0]!;
              if ((before as Record<string, unknown>)[top] === (row as Record<string, unknown>)[top]) continue;
            }
            const value = columnValue(dialect, t, row, i);
            if (!Object.is(value, before ? columnValue(dialect, t, before, i) : stored![i + 1])) {
              changed.push(i);
              params.push(value);
            }
          }
          if (t.ownerKey && changed.includes(t.ownerKey.owner)) params.push(tenantId, columnValue(dialect, t, row, t.ownerKey.owner));
          params.push(tenantId, row.id, op.expectedVersion);
          if (updateStatement(t, s, changed).run(params).changes === 0) conflictFor(t, s, tenantId, op);
          if (s.lists.length) writeLists(t, s, tenantId, row, true, before);
        } else {
          const result = op.expectedVersion === undefined ? s.deleteAny.run(tenantId, op.id) : s.deleteVersioned.run(tenantId, op.id, op.expectedVersion);
          if (result.changes === 0) conflictFor(t, s, tenantId, op);
          for (const { deleteRow } of s.lists) deleteRow.run(tenantId, op.id);
        }
      }
    },

    setOwnerKeys(tenantId, keys, all) {
      const layout = currentLayout!;
      const c = connection();
      touch(undefined);
      const run = (fragment: SqlFragment) => {
        const { sql: text, parameters } = compile(fragment);
        c.prepare(text).run(...parameters);
      };
      const side = dialect.table(layout.ownerKeys);
      const entries = Object.entries(keys);
      if (all) run(sql`DELETE FROM ${side} WHERE "tenant_id" = ${tenantId}`);
      else run(sql`DELETE FROM ${side} WHERE "tenant_id" = ${tenantId} AND "user_id" IN (SELECT "value" FROM json_each(${JSON.stringify(entries.map(([id]) => id))}))`);
      const set = entries.filter(([, key]) => key !== null);
      if (set.length) run(sql`INSERT INTO ${side} ("tenant_id", "user_id", "key") SELECT ${tenantId}, json_extract("j"."value", '$[0]'), json_extract("j"."value", '$[1]') FROM json_each(${JSON.stringify(set)}) AS "j"`);
      for (const t of layout.entities.values()) {
        if (!t.ownerKey) continue;
        const owner = sql.id(t.columns[t.ownerKey.owner]!.column);
        const key = sql`(SELECT "k"."key" FROM ${side} AS "k" WHERE "k"."tenant_id" = ${tenantId} AND "k"."user_id" = ${owner})`;
        const which = all ? sql`` : sql` AND ${owner} IN (SELECT "value" FROM json_each(${JSON.stringify(entries.map(([id]) => id))}))`;
        // Rows whose key is already right are not rewritten (their index entries stay).
        run(sql`UPDATE ${dialect.table(t.table)} SET ${sql.id(t.ownerKey.column)} = ${key} WHERE "tenant_id" = ${tenantId}${which} AND ${sql.id(t.ownerKey.column)} IS NOT ${key}`);
        // Every key was rewritten: statistics gathered before (all keys NULL after the upgrade) would make
        // the planner take the key's index for a board page and sort it (seconds on 1M deals).
        const stats = dialect.indexStatistics;
        if (all && stats && c.prepare(compile(stats.kept).sql).all().length) {
          for (const index of t.indexes) if (index.columns[0] === t.ownerKey.column) run(stats.gather(index.name));
        }
      }
    },

    nextSequence(tenantId, name, count) {
      connection();
      // The UPSERT takes SQLite's write lock (held since BEGIN IMMEDIATE) and returns the new last number.
      const [last] = sequence!.next.get(tenantId, name, count) as [number];
      return Number(last) - count + 1;
    },

    publish(changes) {
      if (!journal) return;
      const now = Date.now();
      // Inside the write transaction: registrations committed before it are all visible.
      const [version] = journal.dataVersion.get() as [unknown];
      if (version !== watchedVersion || now >= recheckAt) {
        othersWatch = journal.others.get(origin, now - WATCHER_TTL_MS) !== undefined;
        watchedVersion = version;
        recheckAt = now + WATCHER_BEAT_MS;
      }
      if (!othersWatch) return;
      const list: JournalChange[] | null =
        changes.length > JOURNAL_MAX_CHANGES ? null : changes.map((c) => [c.entity, c.tenantId, c.id, c.op === 'delete' ? 'd' : 'p']);
      journal.insert.run(origin, now, list === null ? null : JSON.stringify(list));
      if (++published % 64 === 0) journal.prune.run(now - JOURNAL_RETENTION_MS);
    },

    /**
     * The connection, `PRAGMA data_version` (moves when another connection commits; inside a transaction,
     * fixed at its snapshot — the pragma starts one) and this connection's own writes of `t`.
     */
    changeMark(t) {
      const c = connection();
      const [version] = control!.dataVersion.get() as [number];
      const local = localWritesOf(c);
      return `${local.id}.${version}.${local.epoch}.${local.entities.get(t.entity) ?? 0}`;
    },

    commit() {
      const c = connection();
      try {
        if (c.inTransaction) control!.commit.run();
      } finally {
        settleWrites();
      }
    },

    rollback() {
      try {
        endFailedTransaction('rollback');
      } finally {
        settleWrites();
      }
    },

    release() {},
  };

  return {
    name: 'sqlite',
    dialect,
    serializeReads: true,

    async open(schema: StorageSchema, layout: StorageLayout) {
      if (!db) {
        if (options.database) db = options.database;
        else {
          driver = await loadBetterSqlite3();
          db = new driver(options.filename!, { timeout: ENGINE_WAIT_MS });
        }
        const c = db;
        if (!c.memory) await retryBusy('open', () => c.pragma('journal_mode = WAL'));
        configure(c);
      }
      const c = connection();
      await ddl(async (exec) => {
        await migrate(exec, layout, schema, new Date().toISOString());
        if (!c.memory) {
          // The journal other connections read to learn what this one committed (external changes).
          // No AUTOINCREMENT: `seq` is then MAX(seq) + 1, which never falls back since pruning keeps the newest
          // entry; AUTOINCREMENT's counter in sqlite_sequence cost one more page per commit.
          const columns = sql`("seq" INTEGER PRIMARY KEY, "origin" TEXT NOT NULL, "at" INTEGER NOT NULL, "changes" TEXT)`;
          await exec.run(sql`CREATE TABLE IF NOT EXISTS ${dialect.table(layout.changes)} ${columns}`);
          const [[definition] = []] = await exec.all(sql`SELECT "sql" FROM "sqlite_master" WHERE "type" = 'table' AND "name" = ${layout.changes.name}`);
          if (typeof definition === 'string' && /AUTOINCREMENT/i.test(definition)) {
            // A journal of an earlier version: rebuilt without it, entries (and so the watchers' positions) kept.
            const rebuilt = { ...layout.changes, name: `${layout.changes.name}__rebuilt` };
            await exec.run(sql`DROP TABLE IF EXISTS ${dialect.table(rebuilt)}`);
            await exec.run(sql`CREATE TABLE ${dialect.table(rebuilt)} ${columns}`);
            await exec.run(sql`INSERT INTO ${dialect.table(rebuilt)} ("seq", "origin", "at", "changes") SELECT "seq", "origin", "at", "changes" FROM ${dialect.table(layout.changes)}`);
            await exec.run(sql`DROP TABLE ${dialect.table(layout.changes)}`);
            await exec.run(sql`ALTER TABLE ${dialect.table(rebuilt)} RENAME TO ${sql.id(layout.changes.name)}`);
          }
          // Pruning walks the journal in `seq` order (see prepareAll): the index on `at` of earlier versions only cost a page per commit.
          await exec.run(sql`DROP INDEX IF EXISTS ${sql.id(`${layout.changes.name}__at`)}`);
          // Who reads the journal (see watchJournal): writers journal only while another connection is registered.
          await exec.run(sql`CREATE TABLE IF NOT EXISTS ${dialect.table(layout.watchers)} ("origin" TEXT PRIMARY KEY, "at" INTEGER NOT NULL) WITHOUT ROWID`);
        }
      });
      cache!.clear();
      currentLayout = layout;
      prepareAll();
    },

    ddl,

    // The connection is idle (the adapter queues this behind transactions): the SELECT autocommits.
    readDocs: (t, tenantId, ids) => session.readDocs(t, tenantId, ids),
    readDoc: (t, tenantId, id) => session.readDoc!(t, tenantId, id),
    select: (query) => session.select(query),

    begin(mode) {
      const c = connection();
      // A transaction a failed ROLLBACK left open: end it before starting a new one, or fail retryably.
      if (c.inTransaction && !endFailedTransaction('begin')) {
        throw new CrmError('STORAGE', 'The SQLite connection is still inside a transaction that could not be rolled back; try again', { adapter: 'sqlite', retryable: true, operation: 'begin' });
      }
      if (mode === 'rw') {
        try {
          control!.beginImmediate.run();
        } catch (error) {
          if (!isSqliteBusy(error)) throw error;
          return retryBusy('begin', () => control!.beginImmediate.run()).then(() => session);
        }
      } else if (!c.memory) control!.begin.run();
      return session;
    },

    watch: options.changePollMs > 0 ? (emit, exclusive) => watchJournal(emit, exclusive) : undefined,

    async close() {
      unregister();
      cache?.clear();
      statements = new Map();
      journal = undefined;
      sequence = undefined;
      if (db && !options.database && db.open) db.close();
    },
  };
}
