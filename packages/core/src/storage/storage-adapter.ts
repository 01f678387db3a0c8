import type { AggregateRow, AggregateSpec, FilterOp, QuerySpec } from '../query/query-spec.js';
import type { FieldType, StorageSchema } from './storage-schema.js';

/**
 * A stored record. Rows are plain JSON documents (no `Date`, no `undefined` values inside arrays,
 * no class instances).
 *
 * Ownership: a row passed to `write` belongs to whoever passed it. An adapter must not freeze,
 * change or keep a reference to it (or to anything inside it): it must store a copy — a serialised
 * form, a structured clone, or `frozenCopy(row)` from `@crmkit/core/storage` — because the caller may
 * reuse or change its object afterwards, and neither may that alter what is stored nor may the
 * adapter break the caller's object (a frozen array throws on `push`). Deeply frozen parts may be
 * shared instead of copied, since nobody can change them.
 *
 * Rows an adapter hands out — from `getMany`, `query` and in change batches — must not give access
 * to stored state: each must be a fresh copy or deeply frozen, because callers, observers and every
 * listener of a change batch receive them and may be careless with them. A caller changing such a row
 * (or trying to) must never change what later reads return.
 */
export interface Row {
  readonly id: string;
  readonly tenantId: string;
  readonly version: number;
  readonly [field: string]: unknown;
}

/**
 * One change inside a write transaction.
 * - `insert`: the id must not exist in the tenant, otherwise `CONFLICT` (`actualVersion` = stored version).
 * - `update`: the stored row must have `version === expectedVersion`, otherwise `CONFLICT`
 *   (`actualVersion: null` when the row is gone). The row replaces the stored document whole.
 * - `delete`: same version check as `update` when `expectedVersion` is given.
 */
export type WriteOp =
  | { readonly type: 'insert'; readonly row: Row }
  | { readonly type: 'update'; readonly row: Row; readonly expectedVersion: number }
  | { readonly type: 'delete'; readonly id: string; readonly expectedVersion?: number };

/**
 * A committed change as observers see it. `row` is the new document of an insert or update; it must
 * not be the object passed to `write` unless that is deeply frozen (every listener receives the same
 * batch, so a mutable row would let one listener, or the writer, change what the others see).
 */
export interface Change {
  readonly entity: string;
  readonly tenantId: string;
  readonly id: string;
  readonly op: 'put' | 'delete';
  readonly row?: Row;
}

/**
 * The changes of one committed transaction, in write order.
 * `source` is `local` for this adapter instance and `external` for another tab, process or connection
 * (external batches may omit `row`; observers then re-read).
 */
export interface ChangeBatch {
  readonly source: 'local' | 'external';
  readonly changes: readonly Change[];
  /**
   * True when an adapter knows that others committed but cannot list what (it reconnected after
   * notifications were lost, or a transaction changed more rows than it reports). `changes` is then
   * empty and listeners must assume anything changed: caches drop everything, observers re-read.
   * Only `external` batches carry it.
   */
  readonly resync?: boolean;
  /**
   * With `resync`: the tenants others changed, when the adapter knows them (PostgreSQL's `'poll'` mode
   * reads each tenant's feed watermark). Listeners of another tenant ignore the batch (`resyncs`), so
   * one tenant's writes do not make every tenant's observers re-read. Absent: any tenant may have changed.
   */
  readonly tenants?: readonly string[];
}

/** Whether `batch` tells listeners of `tenantId` to re-read everything (a `resync` naming it, or naming no tenant). */
export function resyncs(batch: ChangeBatch, tenantId: string): boolean {
  return batch.resync === true && (batch.tenants === undefined || batch.tenants.includes(tenantId));
}

/**
 * What an adapter pushes down to its engine. Every adapter must answer every query correctly;
 * capabilities only say where the work happens (and let benchmarks and tests know what to expect).
 */
export interface StorageCapabilities {
  /** Filter operators evaluated by the engine rather than in JavaScript. */
  readonly filterOps: readonly FilterOp[];
  /** Sorting and keyset pagination run in the engine. */
  readonly sort: boolean;
  /** `aggregate` runs in the engine (GROUP BY), not over loaded rows. */
  readonly aggregate: boolean;
  /** Data survives `close()` and a new adapter on the same location sees it. */
  readonly durable: boolean;
  /**
   * Changes committed through other adapters on the same data (other processes, tabs or connections)
   * reach `onChange` as `external` batches, listing entity, tenant, id and op of each change (or
   * `resync`), in commit order, within a bounded delay.
   */
  readonly externalChanges: boolean;
  /**
   * Entities whose rows the adapter stamps with their owner's key (`setOwnerKeys`): a query may filter
   * them on the field `ownerKey` (`eq`, `in`), which no row returned carries. Absent: no entity.
   */
  readonly ownerKeys?: readonly string[];
}

/**
 * Operations inside one transaction. Every method is scoped to one tenant: a row of another
 * tenant must be invisible to reads and untouchable by writes, even with the same id.
 *
 * Inside `transaction(fn)`, `fn` must only await these methods: engines such as IndexedDB commit
 * a transaction as soon as it waits on anything else. Adapters must detect such a foreign await
 * where the engine allows it and reject with `STORAGE` instead of committing half the work.
 */
export interface StorageTx {
  /**
   * Reads rows by id. Must return an array of the same length and order as `ids`, with `undefined`
   * for ids that do not exist in the tenant. Must see the transaction's own earlier writes, and must
   * answer every id however many are asked (engines with a bound-parameter limit split the lookup).
   * Rows returned must be fresh copies or deeply frozen (see `Row`).
   */
  getMany(entity: string, tenantId: string, ids: readonly string[]): Promise<(Row | undefined)[]>;

  /**
   * Answers a validated query. Must return rows in `compareRows(sort)` order (ties by id), only rows
   * strictly after `spec.after`, at most `spec.limit` rows, and `nextCursor` (from `encodeCursor`)
   * exactly when more rows match; without `limit`, every matching row (no engine default may cut it).
   * Must agree with `matchFilter` on every row, however many values an `in` or `containsAny` lists.
   * Rows returned must be fresh copies or deeply frozen (see `Row`).
   */
  query(entity: string, tenantId: string, spec: QuerySpec): Promise<{ rows: Row[]; nextCursor?: string }>;

  /**
   * Computes grouped metrics; must agree with `executeAggregate` (float sums within 1e-9 relative).
   * `query` and `aggregate` must refuse filter values with NUL or unpaired surrogates with
   * `VALIDATION` (`assertStorableQuery`), for the reason given at `write`; cursors carrying such
   * text are refused by `decodeCursor`. Both must refuse with `VALIDATION` a filter, sort, group or
   * metric naming a field the entity does not declare (other than `id` and `custom.*` paths;
   * `assertQueryableFields`): an engine that answered it would hide code that fails on the others.
   */
  aggregate(entity: string, tenantId: string, spec: AggregateSpec): Promise<AggregateRow[]>;

  /**
   * Applies writes in order. On the first failed version check it must throw `CrmError` `CONFLICT`
   * and the whole transaction must be rolled back, even if `fn` catches the error: a failed write
   * poisons the transaction. Rows must carry `tenantId === tenantId`, else it throws `VALIDATION`.
   * Text in rows (values and field names) must be storable by every engine: a row holding NUL or an
   * unpaired UTF-16 surrogate must be refused with `VALIDATION` (`assertStorableRow`), because
   * PostgreSQL cannot store it and SQLite or IndexedDB would store it differently — one input must
   * get one verdict on every adapter.
   * The rows passed stay the caller's: the adapter must store copies and never freeze, change or keep
   * them (see `Row`), so later reads are unaffected by what the caller does with its objects.
   *
   * Unique keys (`EntitySchema.unique`): a write that would leave a value of a unique field held by two
   * rows of the same tenant and entity — against stored rows, this transaction's earlier writes, or
   * another row of the same call — must throw `CONFLICT` (`uniqueConflict`: `details.key` names the
   * field, the value and, where known, the row holding it) and poison the transaction like a failed
   * version check. The check must be in the adapter, in the engine's transaction (a unique index or
   * an equivalent side table; a pre-read alone is not enough where transactions overlap), because an
   * external id names one record to the host: a second record with it — written by two processes at
   * once, an import and a request, or a careless caller — would make every later lookup ambiguous.
   * Never `STORAGE`: the caller can act on a conflict (read the holder, update it instead).
   */
  write(entity: string, tenantId: string, ops: readonly WriteOp[]): Promise<void>;

  /**
   * Reserves `count` consecutive numbers of the tenant's counter `name` and returns the first one
   * (counters start at 1; `count` is an integer ≥ 1). Only in `rw` transactions (else `STORAGE`).
   *
   * - It must hold the counter until the transaction ends, so that another transaction reserving from
   *   the same (tenant, name) — in this or another process — waits until this one committed or rolled
   *   back. Numbers therefore become visible in the order they were handed out: a reader that has
   *   seen number N never later sees a smaller number appear. (A PostgreSQL `SEQUENCE`/`serial` has
   *   no such lock: a transaction that drew 10 may commit after one that drew 11, and a reader that
   *   checkpointed at 11 would skip 10 forever. crmkit's change feed depends on this rule.)
   * - It must roll back with the transaction: committed numbers have no gaps.
   * - Callers reserve late in the transaction (the lock serialises the tenant's writers until commit).
   */
  nextSequence(name: string, tenantId: string, count: number): Promise<number>;

  /**
   * Reads rows to work on, for queues and leases: like `query` without a cursor (rows in `spec.sort`
   * order, at most `spec.limit`), and only in `rw` transactions (else `STORAGE`).
   *
   * - It must lock the returned rows until the transaction ends, so that no other transaction can
   *   claim or change them meanwhile.
   * - It must skip rows another open transaction has locked instead of waiting for them (PostgreSQL
   *   `FOR UPDATE SKIP LOCKED`), so that workers in several processes claim different rows and never
   *   fail with `CONFLICT` or deadlock on each other's claims.
   * - It must evaluate `spec.filter` on the latest committed version of each row it returns, so that a
   *   row another worker claimed and updated (e.g. gave a lease) while this one waited is not returned.
   * Engines whose `rw` transactions never overlap (SQLite with `BEGIN IMMEDIATE`, IndexedDB, memory)
   * meet all three by answering like `query`.
   */
  claim(entity: string, tenantId: string, spec: QuerySpec): Promise<Row[]>;

  /**
   * Takes keyed locks of the tenant and holds them until the transaction ends; only in `rw`
   * transactions (else `STORAGE`). Keys are any strings (callers name what they guard, such as
   * `contact:email:ada@example.org`).
   *
   * - It must wait while another open transaction holds one of the keys for the same tenant, in this or
   *   another process, so that a check-then-write on a value no unique index guards (an import keyed by
   *   e-mail, its duplicate check) runs alone: two imports of one file must not both find no contact with
   *   an e-mail and both create one.
   * - It must take the keys in one order whatever order they are passed in (PostgreSQL: sorted, then
   *   `pg_advisory_xact_lock` on a hash of schema, tenant and key), so that two transactions locking
   *   overlapping sets wait for each other instead of deadlocking.
   * - Callers take the locks before they read what the locks guard. crmkit's services also lock the
   *   leads, contacts and companies a write links to, removes or merges (`contact:<id>`): a deal is
   *   never created for a contact that a concurrent merge or remove deletes. A task, activity or stage
   *   visit holds its parent's key (`deal:<id>` …) shared while it copies the parent's owner and shares,
   *   and a change of those holds it exclusively (`withParentAccess` in crm/feature-writes.ts, `Operation.update`).
   * - Re-taking a key the transaction holds already returns at once.
   * - `shared`: the keys are taken shared (PostgreSQL `pg_advisory_xact_lock_shared`): shared holders of
   *   a key do not wait for each other, only for an exclusive holder, which waits for all of them.
   *   crmkit's views hold the configuration key shared in their writes, and configuration changes take
   *   it exclusively, so a change that revokes a right waits for the writes that started under it. A
   *   transaction takes a key shared only before it takes it exclusively, if ever (an upgrade could
   *   wait in a circle with another one's).
   * Engines whose `rw` transactions never overlap (SQLite with `BEGIN IMMEDIATE`, IndexedDB, memory)
   * meet it by doing nothing: their writers already run one at a time.
   */
  lockKeys(tenantId: string, keys: readonly string[], shared?: boolean): Promise<void>;

  /**
   * Only for adapters with `capabilities.ownerKeys`; only in `rw` transactions. Sets the keys of the
   * tenant's users (`null`: none; `all`: these are every key, the others are dropped) and restamps
   * the rows those users own. Such an adapter keeps, beside each row of those entities, the key its
   * `ownerId` has (no key: none), queryable as `ownerKey`, never in the document:
   * - every write of such a row (whoever makes it: a crm without the access feature, an import,
   *   sync) stamps it from the keys in the same statement; its `version` and document stay as given;
   * - writes of such rows and this call must exclude each other across processes (PostgreSQL: this
   *   call takes a tenant lock exclusively, each such write shared, before reading the keys), so a
   *   committed row never keeps a key its owner had before a committed `setOwnerKeys`.
   */
  setOwnerKeys?(tenantId: string, keys: Readonly<Record<string, string | null>>, all?: boolean): Promise<void>;

  /**
   * Optional, synchronous: a mark of the rows of `entity` (any tenant) this transaction sees. When a
   * later call, in this or another transaction of the same adapter, returns the same string, that
   * transaction sees the same rows of `entity` as the earlier one did — no connection or process
   * committed a change to them in between (a change this transaction made itself gives another mark).
   * Call it before reading `entity` in the transaction. `undefined` (or no method): the adapter cannot
   * tell, read the rows. crmkit uses it to skip re-reading its configuration revision (`setting`).
   */
  changeMark?(entity: string): string | undefined;
}

/**
 * A secondary index over one custom field, declared while the app runs (a custom field defined with
 * `indexed: true`). `field` is the queried path: `custom.<key>`, or `custom.<key>.amount` for money.
 */
export interface RuntimeIndexSpec {
  readonly entity: string;
  readonly field: string;
  /** The type values of the field have (list fields cannot be indexed this way). */
  readonly type: Exclude<FieldType, 'string[]'>;
}

/**
 * The storage contract every adapter implements. The conformance suite
 * (`describeStorageConformance` in `@crmkit/core/testing/conformance`) checks every rule written here.
 *
 * Materialized aggregates (`EntitySchema.aggregates`). An adapter may keep them to answer matching
 * `aggregate` calls (see `planViewRead`) from a few group rows instead of scanning the entity; the
 * pipeline board reads per-stage totals that way. An adapter that does:
 * - must update them in the same engine transaction as every write of the entity (insert, update with
 *   a stage or currency change, delete — whoever writes: services, imports, sync, another tab or
 *   process through its own adapter), so that a committed total always equals a scan of the committed
 *   rows and a rolled-back transaction leaves no trace; totals kept anywhere else would drift;
 * - must build them from the stored rows when they are created or their definition changes (an
 *   upgrade), so that data written before they existed is counted;
 * - must let a transaction's reads see its own writes in them, like every other read;
 * - must compute from rows whenever a selected group holds a sum it cannot keep exactly (a value that is
 *   not a safe integer: `ViewGroup.inexact`), so that its answers agree with `executeAggregate`.
 * Adapters that do not maintain them compute such aggregates like any other: the answers are the same.
 *
 * Writers of crm entities (records, settings, events) must go through an `Operation` (`runWrite`, a
 * feature's run of services): device sync (`@crmkit/sync/server`) records a change position for every
 * row an operation writes (`FeatureHooks.sync`), in its transaction; a row written around it, straight
 * through `StorageTx.write`, never reaches the devices. Adapters and sync's own bookkeeping (applying
 * pulled rows on a device, `syncChange` itself) are the exceptions.
 */
export interface StorageAdapter {
  /** Adapter name for errors and logs (`memory`, `sqlite`, `postgres`, `indexeddb`). */
  readonly name: string;
  readonly capabilities: StorageCapabilities;

  /**
   * Creates or migrates tables / stores / indexes for `schema`. Must be idempotent and must be
   * called (and awaited) before any transaction. Migrations are forward-only.
   */
  open(schema: StorageSchema): Promise<void>;

  /**
   * Runs `fn` in one transaction: all of its writes are committed together or none is.
   * If `fn` throws or rejects, everything is rolled back and the error is rethrown unchanged.
   * `rw` transactions are serialised with respect to each other (per tenant at least);
   * engine errors surface as `CrmError` `STORAGE` with `retryable` set when a retry can help.
   * `fn` must not start another transaction on the same adapter: writers are serialised, so a nested
   * `rw` transaction would wait for its parent forever.
   * Reads of an `r` transaction should see one consistent snapshot where the engine offers one
   * (SQLite, PostgreSQL, IndexedDB do); the memory adapter reads the latest committed state at each call.
   */
  transaction<T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T>;

  /**
   * Optional. Reads rows by id in one step, outside any transaction: exactly what
   * `transaction('r', (tx) => tx.getMany(entity, tenantId, ids))` returns (same order, `undefined` for
   * missing ids), but without opening a transaction around the read — a single statement is one
   * consistent snapshot by itself, and on SQLite `BEGIN`/`COMMIT` cost as much as the read (on
   * PostgreSQL two round trips). Must see every write committed before the call (no cache: another
   * process's commit is visible at once) and never uncommitted writes of a transaction in progress.
   * Core reads single records this way (`crm.deals.get`) and falls back to a read transaction when
   * an adapter lacks it.
   */
  getMany?(entity: string, tenantId: string, ids: readonly string[]): Promise<(Row | undefined)[]>;

  /**
   * Optional. Computes an aggregate in one statement outside any transaction: exactly what
   * `transaction('r', (tx) => tx.aggregate(entity, tenantId, spec))` returns, with the same rules as
   * `getMany` above (committed writes only, no cache). Core aggregates this way (`crm.deals.aggregate`)
   * and falls back to a read transaction when an adapter lacks it.
   */
  aggregate?(entity: string, tenantId: string, spec: AggregateSpec): Promise<AggregateRow[]>;

  /**
   * Subscribes to committed changes. Listeners must be called after commit, never for rolled-back
   * work, once per transaction, in commit order. Returns the unsubscribe function.
   */
  onChange(listener: (batch: ChangeBatch) => void): () => void;

  /**
   * Creates the runtime indexes the storage does not have yet (custom fields with `indexed: true`), so
   * filters, sorts and aggregates on those fields are answered from an index instead of a scan.
   * Must be called after `open` and outside any transaction of this adapter; must be idempotent and
   * durable: once it resolved, the index exists in the database, and every adapter on the same data —
   * in another process or tab, opened before or after — must use it without being told (SQL planners
   * pick an expression index up by themselves; IndexedDB connections reopen on the version change).
   * The index leads with the tenant id like every other. Indexes are never dropped by crmkit: a field
   * that stops being indexed keeps its index (forward-only, like migrations). A field ensured with
   * another type than before (a custom field redefined, or the same key typed otherwise in another
   * tenant) must get an index for that type: an index over the other typed value serves none of its
   * queries (an adapter that named indexes by field alone found "its" index and indexed nothing).
   * Engines without indexes (memory) accept the call and do nothing.
   *
   * @throws CrmError `VALIDATION` for an unknown entity, a path that is not a custom path or a list type;
   *   `STORAGE` when the engine fails (retryable when another connection blocked the change).
   */
  ensureIndexes(indexes: readonly RuntimeIndexSpec[]): Promise<void>;

  /**
   * The database server's clock (epoch ms), for adapters shared by several hosts (PostgreSQL). Leases
   * are timestamps written with one process's clock and compared by others with theirs, so a process
   * compares its clock with this one and warns on a skew larger than a lease's reserve. Absent where
   * every process shares the host's clock (memory, SQLite, IndexedDB). Must be read fresh on each call
   * (a cached value hides a skew that grew), must answer while a transaction of the adapter is open
   * without taking part in it (the check runs beside consumers' writes), and must reject with `CrmError`
   * `CLOSED` after `close`. A Date of it is the server's instant as ISO-8601 UTC.
   */
  databaseTime?(): Promise<number>;

  /** Releases connections. Later calls must reject with `CrmError` `CLOSED`. Idempotent. */
  close(): Promise<void>;
}
