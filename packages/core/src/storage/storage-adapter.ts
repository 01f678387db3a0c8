import type { AggregateRow, AggregateSpec, FilterOp, QuerySpec } from '../query/query-spec.js';
import type { StorageSchema } from './storage-schema.js';

/**
 * A stored record. Rows are plain JSON documents (no `Date`, no `undefined` values inside arrays,
 * no class instances). Rows handed out by an adapter must be treated as immutable.
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

/** A committed change as observers see it. `row` is the new document of an insert or update. */
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
  /** Changes from other processes, tabs or connections reach `onChange` as `external` batches. */
  readonly externalChanges: boolean;
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
   * for ids that do not exist in the tenant. Must see the transaction's own earlier writes.
   */
  getMany(entity: string, tenantId: string, ids: readonly string[]): Promise<(Row | undefined)[]>;

  /**
   * Answers a validated query. Must return rows in `compareRows(sort)` order (ties by id), only rows
   * strictly after `spec.after`, at most `spec.limit` rows, and `nextCursor` (from `encodeCursor`)
   * exactly when more rows match. Must agree with `matchFilter` on every row.
   */
  query(entity: string, tenantId: string, spec: QuerySpec): Promise<{ rows: Row[]; nextCursor?: string }>;

  /**
   * Computes grouped metrics; must agree with `executeAggregate` (float sums within 1e-9 relative).
   * `query` and `aggregate` must refuse filter values with NUL or unpaired surrogates with
   * `VALIDATION` (`assertStorableQuery`), for the reason given at `write`; cursors carrying such
   * text are refused by `decodeCursor`.
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
   */
  write(entity: string, tenantId: string, ops: readonly WriteOp[]): Promise<void>;
}

/**
 * The storage contract every adapter implements. The conformance suite
 * (`describeStorageConformance` in `@crmkit/core/testing/conformance`) checks every rule written here.
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
   * Subscribes to committed changes. Listeners must be called after commit, never for rolled-back
   * work, once per transaction, in commit order. Returns the unsubscribe function.
   */
  onChange(listener: (batch: ChangeBatch) => void): () => void;

  /** Releases connections. Later calls must reject with `CrmError` `CLOSED`. Idempotent. */
  close(): Promise<void>;
}
