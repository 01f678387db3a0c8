import { CrmError, type AggregateRow, type AggregateSpec, type QuerySpec } from '@crmkit/core';
import { assertAdapterOpen, assertRowTenant, assertSequenceArgs, assertStorableQuery, assertStorableRow, checkRuntimeIndexes, encodeCursor, frozenCopy, type Change, type ChangeBatch, type FieldType, type Row, type RuntimeIndexSpec, type StorageAdapter, type StorageCapabilities, type StorageSchema, type StorageTx, type WriteOp, deliverChangeBatch } from '@crmkit/core/storage';
import type { ResolveContext } from './field-resolver.js';
import { compileAggregate as compileAggregateSpec, type CompiledAggregate } from './aggregate-compiler.js';
import { compileClaimQuery, compilePageQuery, type ShapeCache } from './query-compiler.js';
import { createRuntimeIndex, runtimeColumnKey } from './migrations.js';
import type { SqlEngine, SqlSession } from './sql-engine.js';
import { invalidInput, storageFailure, toStorageError } from './storage-errors.js';
import { buildLayout, type EntityTable, type LayoutOptions, type RuntimeColumn, type StorageLayout } from './table-layout.js';
import { TransactionQueue } from './transaction-queue.js';

/** Filter operators the SQL adapters evaluate in the database. */
export const SQL_FILTER_OPS = ['eq', 'in', 'lt', 'lte', 'gt', 'gte', 'prefix', 'containsAny', 'and', 'or'] as const;

interface TxState {
  done: boolean;
  poisoned: unknown;
  readonly changes: Change[];
  /**
   * `rw` only: the rows this transaction read or wrote, by `entity|tenant|id` — what is stored now,
   * since a `rw` transaction holds the write lock (SQLite) or conflicts on a version check. Engines use
   * them as the previous row of an update instead of reading it again.
   */
  readonly known?: Map<string, Row>;
}

const knownKey = (entity: string, tenantId: string, id: string) => `${entity}|${tenantId}|${id}`;

/**
 * The storage adapter shared by SQLite and PostgreSQL: lifecycle, transactions, write poisoning,
 * change batches and the compilation of queries; the engine runs the SQL.
 *
 * Transactions: `rw` transactions of one adapter run one at a time (a FIFO queue), and so do all
 * transactions when the engine has a single connection (SQLite); a transaction never waits for
 * anything but the queue and its own statements. Listeners run after commit, after the queue is
 * released, so they may start transactions of their own. A callback must not start another
 * transaction of the same adapter and wait for it: on SQLite (and for `rw` on PostgreSQL) the inner
 * one queues behind the outer one forever — use the `tx` you were given.
 */
export function createSqlStorage(engine: SqlEngine, capabilities: StorageCapabilities, layoutOptions: LayoutOptions): StorageAdapter {
  const name = engine.name;
  const listeners = new Set<(batch: ChangeBatch) => void>();
  const writers = new TransactionQueue();
  const readers = engine.serializeReads ? writers : undefined;
  let layout: StorageLayout | undefined;
  let opening: Promise<void> | undefined;
  let openedSchema: StorageSchema | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  let active = 0;
  let drained: (() => void) | undefined;
  // Compiled SQL reused across calls: page queries by shape, aggregates by their exact spec.
  const shapes: ShapeCache = new Map();
  const aggregates = new Map<string, CompiledAggregate>();
  /** Runtime indexes this adapter created or found (`entity:field:type`): later calls skip the DDL. */
  const ensured = new Set<string>();

  /**
   * Compiles an aggregate, reusing the compilation of an identical earlier spec (the board asks the
   * same totals again and again). Specs whose JSON form would hide a difference (non-finite numbers,
   * -0, `undefined` in arrays, functions) are never cached.
   */
  function compileAggregate(ctx: ResolveContext, spec: AggregateSpec): CompiledAggregate {
    let key: string | undefined;
    try {
      let exact = true;
      // Presence flags keep "absent" apart from any value the field could hold.
      const parts = [spec.filter, spec.groupBy, spec.metrics, spec.customTypes];
      const described = [ctx.table.entity, ctx.tenantId, parts.map((p) => (p === undefined ? 0 : 1)), parts.map((p) => p ?? null)];
      key = JSON.stringify(described, (_, value: unknown) => {
        if (typeof value === 'number' ? !Number.isFinite(value) || Object.is(value, -0) : value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
          exact = false;
        }
        return value;
      });
      if (!exact) key = undefined;
    } catch {
      key = undefined;
    }
    const hit = key === undefined ? undefined : aggregates.get(key);
    if (hit) return hit;
    const compiled = compileAggregateSpec(ctx, spec);
    if (key !== undefined) {
      if (aggregates.size >= 256) aggregates.delete(aggregates.keys().next().value!);
      aggregates.set(key, compiled);
    }
    return compiled;
  }

  function tableOf(entity: string): EntityTable {
    const t = layout?.entities.get(entity);
    if (!t) throw storageFailure(name, 'transaction', `Unknown entity "${String(entity).slice(0, 100)}"`);
    return t;
  }

  function emit(changes: Change[]): void {
    if (changes.length === 0) return;
    deliverChangeBatch(listeners, { source: 'local', changes });
  }

  // Other connections' commits are watched while someone listens (createCrm always does).
  let stopWatching: (() => void) | undefined;
  const exclusive = async <T>(work: () => T | Promise<T>): Promise<T> => {
    active++;
    try {
      await writers.acquire();
      try {
        assertAdapterOpen(closed, name);
        return await work();
      } finally {
        writers.release();
      }
    } finally {
      finishActive();
    }
  };
  function syncWatching(): void {
    const wanted = !closed && layout !== undefined && listeners.size > 0 && engine.watch !== undefined;
    if (wanted && !stopWatching) stopWatching = engine.watch!((batch) => deliverChangeBatch(listeners, batch), exclusive);
    else if (!wanted && stopWatching) {
      stopWatching();
      stopWatching = undefined;
    }
  }

  /** Rethrows an engine failure as `CrmError`, poisoning the transaction: the engine may have rolled back already. */
  function engineFailure(state: TxState, operation: string, error: unknown): never {
    const mapped = toStorageError(name, operation, error);
    if (!(mapped instanceof CrmError) || mapped.code === 'STORAGE') state.poisoned ??= mapped;
    throw mapped;
  }

  function makeTx(session: SqlSession, writable: boolean, state: TxState): StorageTx {
    return new SqlTx(session, writable, state);
  }

  /** The `StorageTx` handed to transaction callbacks (a class: no closures allocated per transaction). */
  class SqlTx implements StorageTx {
    constructor(
      private readonly session: SqlSession,
      private readonly writable: boolean,
      private readonly state: TxState,
    ) {}

    private guard(entity: string): EntityTable {
      const state = this.state;
      if (state.done) throw storageFailure(name, 'transaction', 'The transaction has already finished');
      assertAdapterOpen(closed, name);
      if (state.poisoned !== undefined) throw state.poisoned;
      return tableOf(entity);
    }

    private context(t: EntityTable, tenantId: string, customTypes: Readonly<Record<string, FieldType>> | undefined, op: string): ResolveContext {
      if (typeof tenantId !== 'string') throw invalidInput(op, ['tenantId'], 'invalid_type', 'must be a string');
      return { dialect: engine.dialect, table: t, tenantId, customTypes, context: `${name} ${op}` };
    }

    async getMany(entity: string, tenantId: string, ids: readonly string[]): Promise<(Row | undefined)[]> {
      const t = this.guard(entity);
      checkGetMany(tenantId, ids);
      if (ids.length === 0) return [];
      let docs: Map<string, Row> | (Row | undefined)[];
      try {
        const found = read(this.session, t, tenantId, ids);
        docs = found instanceof Promise ? await found : found;
      } catch (error) {
        engineFailure(this.state, 'getMany', error);
      }
      const known = this.state.known;
      if (Array.isArray(docs)) {
        if (known && docs[0]) known.set(knownKey(entity, tenantId, ids[0]!), docs[0]);
        return docs;
      }
      if (known) for (const [id, row] of docs) known.set(knownKey(entity, tenantId, id), row);
      return inOrder(ids, docs);
    }

    async query(entity: string, tenantId: string, spec: QuerySpec): Promise<{ rows: Row[]; nextCursor?: string }> {
      const t = this.guard(entity);
      assertStorableQuery(entity, spec);
      const { query, limit } = compilePageQuery(this.context(t, tenantId, spec.customTypes, 'query'), spec, shapes);
      let raw: unknown[][];
      try {
        const found = this.session.select(query);
        raw = found instanceof Promise ? await found : found;
      } catch (error) {
        engineFailure(this.state, 'query', error);
      }
      const rows: Row[] = new Array(raw.length);
      for (let i = 0; i < raw.length; i++) rows[i] = engine.dialect.readDoc(raw[i]![0]);
      const known = this.state.known;
      if (known) for (const row of rows) known.set(knownKey(entity, tenantId, row.id), row);
      if (limit === undefined || rows.length <= limit) return { rows };
      rows.length = limit;
      return { rows, nextCursor: encodeCursor(rows[limit - 1]!, spec.sort ?? []) };
    }

    async aggregate(entity: string, tenantId: string, spec: AggregateSpec): Promise<AggregateRow[]> {
      const t = this.guard(entity);
      assertStorableQuery(entity, spec);
      const compiled = compileAggregate(this.context(t, tenantId, spec.customTypes, 'aggregate'), spec);
      let raw: unknown[][];
      try {
        const found = this.session.select(compiled.query);
        raw = found instanceof Promise ? await found : found;
      } catch (error) {
        engineFailure(this.state, 'aggregate', error);
      }
      return compiled.read(raw);
    }

    async write(entity: string, tenantId: string, ops: readonly WriteOp[]): Promise<void> {
      const t = this.guard(entity);
      const state = this.state;
      if (!this.writable) throw storageFailure(name, 'write', 'Cannot write in a read-only transaction');
      try {
        if (!Array.isArray(ops)) throw invalidInput(`${name} write`, ['ops'], 'invalid_type', 'must be an array of writes');
        if (typeof tenantId !== 'string') throw invalidInput(`${name} write`, ['tenantId'], 'invalid_type', 'must be a string');
        for (const op of ops) {
          if (op?.type !== 'insert' && op?.type !== 'update' && op?.type !== 'delete') {
            throw invalidInput(`${name} write`, ['ops'], 'invalid_value', 'each write must be an insert, update or delete');
          }
          assertRowTenant(entity, tenantId, op);
          if (op.type === 'delete' && typeof op.id !== 'string') throw invalidInput(`${name} write`, ['id'], 'invalid_type', 'must be a string');
          // Rows are checked while their JSON is made (row-values.ts); ids of deletes here.
          if (op.type === 'delete') assertStorableRow(entity, op);
          if (op.type === 'update' && typeof op.expectedVersion !== 'number') throw invalidInput(`${name} write`, ['expectedVersion'], 'invalid_type', 'must be a number');
        }
        if (ops.length === 0) return;
        const known = state.known;
        await this.session.write(t, tenantId, ops, known && ((id) => known.get(knownKey(entity, tenantId, id))));
      } catch (error) {
        // A failed write poisons the transaction: it will roll back even if the caller catches this.
        const mapped = toStorageError(name, 'write', error);
        state.poisoned ??= mapped;
        throw mapped;
      }
      const known = state.known;
      for (const op of ops) {
        // Listeners get a frozen copy: the written row stays the caller's (free for crmkit's frozen records).
        state.changes.push(
          op.type === 'delete' ? { entity, tenantId, id: op.id, op: 'delete' } : { entity, tenantId, id: op.row.id, op: 'put', row: frozenCopy(op.row) },
        );
        if (!known) continue;
        if (op.type === 'delete') known.delete(knownKey(entity, tenantId, op.id));
        else known.set(knownKey(entity, tenantId, op.row.id), op.row);
      }
    }

    async nextSequence(sequence: string, tenantId: string, count: number): Promise<number> {
      const state = this.state;
      if (state.done) throw storageFailure(name, 'transaction', 'The transaction has already finished');
      assertAdapterOpen(closed, name);
      if (state.poisoned !== undefined) throw state.poisoned;
      if (!this.writable) throw storageFailure(name, 'nextSequence', 'Cannot reserve sequence numbers in a read-only transaction');
      assertSequenceArgs(sequence, tenantId, count);
      try {
        const first = this.session.nextSequence(tenantId, sequence, count);
        return first instanceof Promise ? await first : first;
      } catch (error) {
        engineFailure(state, 'nextSequence', error);
      }
    }

    async lockKeys(tenantId: string, keys: readonly string[], shared?: boolean): Promise<void> {
      const state = this.state;
      if (state.done) throw storageFailure(name, 'transaction', 'The transaction has already finished');
      assertAdapterOpen(closed, name);
      if (state.poisoned !== undefined) throw state.poisoned;
      if (!this.writable) throw storageFailure(name, 'lockKeys', 'Cannot lock keys in a read-only transaction');
      // SQLite's writers run one at a time (BEGIN IMMEDIATE): the engine has no lockKeys, every key is ours.
      if (!this.session.lockKeys || keys.length === 0) return;
      try {
        await this.session.lockKeys(tenantId, [...new Set(keys)].sort(), shared === true);
      } catch (error) {
        engineFailure(state, 'lockKeys', error);
      }
    }

    async setOwnerKeys(tenantId: string, keys: Readonly<Record<string, string | null>>, all = false): Promise<void> {
      const state = this.state;
      if (state.done) throw storageFailure(name, 'transaction', 'The transaction has already finished');
      assertAdapterOpen(closed, name);
      if (state.poisoned !== undefined) throw state.poisoned;
      if (!this.writable) throw storageFailure(name, 'setOwnerKeys', 'Cannot set owner keys in a read-only transaction');
      if (!this.session.setOwnerKeys || !capabilities.ownerKeys?.length) throw storageFailure(name, 'setOwnerKeys', 'This adapter keeps no owner keys');
      if (typeof tenantId !== 'string') throw invalidInput(`${name} setOwnerKeys`, ['tenantId'], 'invalid_type', 'must be a string');
      if (keys === null || typeof keys !== 'object' || Object.values(keys).some((k) => k !== null && typeof k !== 'string')) {
        throw invalidInput(`${name} setOwnerKeys`, ['keys'], 'invalid_type', 'must map user ids to strings or null');
      }
      try {
        await this.session.setOwnerKeys(tenantId, keys, all === true);
      } catch (error) {
        engineFailure(state, 'setOwnerKeys', error);
      }
    }

    changeMark(entity: string): string | undefined {
      const state = this.state;
      if (state.done || closed || state.poisoned !== undefined || !this.session.changeMark) return undefined;
      try {
        return this.session.changeMark(tableOf(entity));
      } catch {
        return undefined; // the read it stands for reports the failure
      }
    }

    async claim(entity: string, tenantId: string, spec: QuerySpec): Promise<Row[]> {
      const t = this.guard(entity);
      if (!this.writable) throw storageFailure(name, 'claim', 'Cannot claim rows in a read-only transaction');
      const query = compileClaimQuery(this.context(t, tenantId, spec.customTypes, 'claim'), spec);
      let raw: unknown[][];
      try {
        const found = this.session.select(query);
        raw = found instanceof Promise ? await found : found;
      } catch (error) {
        engineFailure(this.state, 'claim', error);
      }
      const rows: Row[] = new Array(raw.length);
      for (let i = 0; i < raw.length; i++) rows[i] = engine.dialect.readDoc(raw[i]![0]);
      return rows;
    }
  }

  /** The documents of `ids` in their order (`undefined` where missing). */
  function inOrder(ids: readonly string[], docs: Map<string, Row> | (Row | undefined)[]): (Row | undefined)[] {
    if (Array.isArray(docs)) return docs;
    if (ids.length === 1) return [docs.get(ids[0]!)];
    return ids.map((id) => docs.get(id));
  }

  /** The documents of `ids`: one id through the engine's `readDoc` (as `[row]`, no map) where it has one. */
  function read(
    from: Pick<SqlSession, 'readDocs' | 'readDoc'>,
    t: EntityTable,
    tenantId: string,
    ids: readonly string[],
  ): Map<string, Row> | (Row | undefined)[] | Promise<Map<string, Row> | (Row | undefined)[]> {
    if (ids.length !== 1 || !from.readDoc) return from.readDocs(t, tenantId, ids);
    const found = from.readDoc(t, tenantId, ids[0]!);
    return found instanceof Promise ? found.then((row) => [row]) : [found];
  }

  function checkGetMany(tenantId: unknown, ids: unknown): void {
    if (typeof tenantId !== 'string') throw invalidInput(`${name} getMany`, ['tenantId'], 'invalid_type', 'must be a string');
    if (!Array.isArray(ids)) throw invalidInput(`${name} getMany`, ['ids'], 'invalid_type', 'must be an array of strings');
    for (const id of ids) if (typeof id !== 'string') throw invalidInput(`${name} getMany`, ['ids'], 'invalid_type', 'must be an array of strings');
  }

  /**
   * `getMany` outside a transaction: one statement, queued like a read transaction (SQLite shares one
   * connection). With the queue free and a synchronous engine (SQLite) it runs at once, without an async
   * frame or closure per call (a point read is little more than this bookkeeping and the statement).
   */
  function readOutside(entity: string, tenantId: string, ids: readonly string[]): Promise<(Row | undefined)[]> {
    if (readers && !readers.tryAcquire()) return outside('getMany', async () => inOrder(ids, await read(engine, tableOf(entity), tenantId, ids)));
    active++;
    let pending: Promise<Map<string, Row> | (Row | undefined)[]> | undefined;
    try {
      assertAdapterOpen(closed, name);
      const found = read(engine, tableOf(entity), tenantId, ids);
      if (!(found instanceof Promise)) return Promise.resolve(inOrder(ids, found));
      pending = found;
    } catch (error) {
      return Promise.reject(toStorageError(name, 'getMany', error));
    } finally {
      if (!pending) {
        readers?.release();
        finishActive();
      }
    }
    return pending.then(
      (docs) => inOrder(ids, docs),
      (error: unknown) => Promise.reject(toStorageError(name, 'getMany', error)),
    ).finally(() => {
      readers?.release();
      finishActive();
    });
  }

  /** One statement's work outside a transaction, queued like a read transaction; engine errors as StorageErrors. */
  async function outside<T>(operation: string, work: () => Promise<T>): Promise<T> {
    active++;
    try {
      if (readers && !readers.tryAcquire()) await readers.acquire();
    } catch (error) {
      finishActive();
      throw error;
    }
    try {
      assertAdapterOpen(closed, name);
      try {
        return await work();
      } catch (error) {
        throw toStorageError(name, operation, error);
      }
    } finally {
      readers?.release();
      finishActive();
    }
  }

  function finishActive(): void {
    active--;
    if (active === 0 && drained) drained();
  }

  async function run<T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T> {
    active++;
    const queue = mode === 'rw' ? writers : readers;
    try {
      if (queue && !queue.tryAcquire()) await queue.acquire();
    } catch (error) {
      finishActive();
      throw error;
    }
    let session: SqlSession | undefined;
    const state: TxState = mode === 'rw' ? { done: false, poisoned: undefined, changes: [], known: new Map() } : { done: false, poisoned: undefined, changes: [] };
    let committed: Change[] | undefined;
    try {
      assertAdapterOpen(closed, name);
      try {
        const begun = engine.begin(mode);
        session = begun instanceof Promise ? await begun : begun;
      } catch (error) {
        throw toStorageError(name, 'begin', error);
      }
      let result: T;
      try {
        result = await fn(makeTx(session, mode === 'rw', state));
        if (state.poisoned !== undefined) throw state.poisoned;
        assertAdapterOpen(closed, name);
      } catch (error) {
        state.done = true;
        await session.rollback();
        throw error;
      }
      state.done = true;
      try {
        if (state.changes.length > 0) {
          const published = session.publish(state.changes);
          if (published instanceof Promise) await published;
        }
        const done = session.commit();
        if (done instanceof Promise) await done;
      } catch (error) {
        await session.rollback();
        throw toStorageError(name, 'commit', error);
      }
      committed = state.changes;
      return result;
    } finally {
      state.done = true;
      session?.release();
      queue?.release();
      finishActive();
      if (committed) emit(committed);
    }
  }

  return {
    name,
    capabilities,
    ...(engine.databaseTime ? { databaseTime: async () => (assertAdapterOpen(closed, name), engine.databaseTime!()) } : {}),

    async open(schema: StorageSchema) {
      assertAdapterOpen(closed, name);
      if (!schema || !Array.isArray(schema.entities) || typeof schema.version !== 'number') {
        throw invalidInput(`${name} open`, ['schema'], 'invalid_type', 'must be a StorageSchema');
      }
      // Concurrent or repeated opens share one migration; reopening with the same schema is free.
      if (opening && openedSchema === schema) return opening;
      const previous = opening;
      const attempt = (async () => {
        await previous?.catch(() => undefined);
        const next = buildLayout(schema, { ...layoutOptions, adapter: name });
        await writers.acquire();
        try {
          assertAdapterOpen(closed, name);
          await engine.open(schema, next);
          layout = next;
          shapes.clear();
          aggregates.clear();
        } catch (error) {
          throw toStorageError(name, 'open', error);
        } finally {
          writers.release();
        }
        syncWatching();
      })();
      opening = attempt;
      openedSchema = schema;
      attempt.catch(() => {
        if (opening === attempt) {
          opening = undefined;
          openedSchema = undefined;
        }
      });
      return attempt;
    },

    transaction<T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T> {
      // Not an async function: one promise less per transaction (point reads are dominated by such costs).
      try {
        assertAdapterOpen(closed, name);
        if (mode !== 'r' && mode !== 'rw') throw invalidInput(`${name} transaction`, ['mode'], 'invalid_value', 'must be "r" or "rw"');
        if (typeof fn !== 'function') throw invalidInput(`${name} transaction`, ['fn'], 'invalid_type', 'must be a function');
      } catch (error) {
        return Promise.reject(error);
      }
      if (layout) return run(mode, fn);
      return (async () => {
        if (opening) await opening.catch(() => undefined);
        if (!layout) throw storageFailure(name, 'transaction', `The ${name} storage was used before open()`);
        return run(mode, fn);
      })();
    },

    async ensureIndexes(indexes) {
      assertAdapterOpen(closed, name);
      await opening?.catch(() => undefined);
      if (!layout) throw storageFailure(name, 'ensureIndexes', `The ${name} storage was used before open()`);
      checkRuntimeIndexes(openedSchema, indexes);
      const missing = indexes.filter((spec) => !ensured.has(`${spec.entity}:${spec.field}:${spec.type}`));
      if (missing.length === 0) return;
      await writers.acquire();
      try {
        assertAdapterOpen(closed, name);
        const served: [EntityTable, RuntimeIndexSpec, RuntimeColumn | undefined][] = [];
        await engine.ddl(async (exec) => {
          for (const spec of missing) served.push([tableOf(spec.entity), spec, await createRuntimeIndex(exec, layout!, tableOf(spec.entity), spec)]);
        });
        // After the commit: queries compiled from now on read the generated columns (PostgreSQL).
        for (const [t, spec, column] of served) if (column) t.runtimeColumns.set(runtimeColumnKey(spec.field, spec.type), column);
        aggregates.clear();
        for (const spec of missing) ensured.add(`${spec.entity}:${spec.field}:${spec.type}`);
      } catch (error) {
        throw toStorageError(name, 'ensureIndexes', error);
      } finally {
        writers.release();
      }
    },

    getMany(entity: string, tenantId: string, ids: readonly string[]): Promise<(Row | undefined)[]> {
      try {
        assertAdapterOpen(closed, name);
        checkGetMany(tenantId, ids);
        if (!layout) throw storageFailure(name, 'getMany', `The ${name} storage was used before open()`);
      } catch (error) {
        return Promise.reject(error);
      }
      return ids.length === 0 ? Promise.resolve([]) : readOutside(entity, tenantId, ids);
    },

    aggregate(entity: string, tenantId: string, spec: AggregateSpec): Promise<AggregateRow[]> {
      return outside('aggregate', async () => {
        if (!layout) throw storageFailure(name, 'aggregate', `The ${name} storage was used before open()`);
        const t = tableOf(entity);
        assertStorableQuery(entity, spec);
        if (typeof tenantId !== 'string') throw invalidInput(`${name} aggregate`, ['tenantId'], 'invalid_type', 'must be a string');
        const compiled = compileAggregate({ dialect: engine.dialect, table: t, tenantId, customTypes: spec.customTypes, context: `${name} aggregate` }, spec);
        const found = engine.select(compiled.query);
        return compiled.read(found instanceof Promise ? await found : found);
      });
    },

    onChange(listener) {
      if (typeof listener !== 'function') throw invalidInput(`${name} onChange`, ['listener'], 'invalid_type', 'must be a function');
      listeners.add(listener);
      syncWatching();
      return () => {
        listeners.delete(listener);
        syncWatching();
      };
    },

    close() {
      closing ??= (async () => {
        closed = true;
        listeners.clear();
        syncWatching();
        await opening?.catch(() => undefined);
        if (active > 0) await new Promise<void>((resolve) => (drained = resolve));
        await engine.close();
      })();
      return closing;
    },
  };
}
