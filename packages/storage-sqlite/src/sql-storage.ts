import {
  assertAdapterOpen,
  assertRowTenant,
  CrmError,
  type AggregateRow,
  type AggregateSpec,
  type Change,
  type ChangeBatch,
  type FieldType,
  type QuerySpec,
  type Row,
  type StorageAdapter,
  type StorageCapabilities,
  type StorageSchema,
  type StorageTx,
  type WriteOp,
} from '@crmkit/core';
import { encodeCursor } from '@crmkit/core';
import { compileAggregate } from './aggregate-compiler.js';
import type { ResolveContext } from './field-resolver.js';
import { compilePageQuery } from './query-compiler.js';
import type { SqlEngine, SqlSession } from './sql-engine.js';
import { invalidInput, storageFailure, toStorageError } from './storage-errors.js';
import { buildLayout, type EntityTable, type LayoutOptions, type StorageLayout } from './table-layout.js';
import { TransactionQueue } from './transaction-queue.js';

/** Filter operators the SQL adapters evaluate in the database. */
export const SQL_FILTER_OPS = ['eq', 'in', 'lt', 'lte', 'gt', 'gte', 'prefix', 'containsAny', 'and', 'or'] as const;

interface TxState {
  done: boolean;
  poisoned: unknown;
  readonly changes: Change[];
}

/**
 * The storage adapter shared by SQLite and PostgreSQL: lifecycle, transactions, write poisoning,
 * change batches and the compilation of queries; the engine runs the SQL.
 *
 * Transactions: `rw` transactions of one adapter run one at a time (a FIFO queue), and so do all
 * transactions when the engine has a single connection (SQLite); a transaction never waits for
 * anything but the queue and its own statements. Listeners run after commit, after the queue is
 * released, so they may start transactions of their own.
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

  function tableOf(entity: string): EntityTable {
    const t = layout?.entities.get(entity);
    if (!t) throw storageFailure(name, 'transaction', `Unknown entity "${String(entity).slice(0, 100)}"`);
    return t;
  }

  function emit(changes: Change[]): void {
    if (changes.length === 0) return;
    const batch: ChangeBatch = { source: 'local', changes };
    for (const listener of [...listeners]) {
      try {
        listener(batch);
      } catch (error) {
        console.error('crmkit: a storage change listener threw', error);
      }
    }
  }

  function makeTx(session: SqlSession, writable: boolean, state: TxState): StorageTx {
    const guard = (entity: string): EntityTable => {
      if (state.done) throw storageFailure(name, 'transaction', 'The transaction has already finished');
      assertAdapterOpen(closed, name);
      if (state.poisoned !== undefined) throw state.poisoned;
      return tableOf(entity);
    };
    const context = (t: EntityTable, tenantId: string, customTypes: Readonly<Record<string, FieldType>> | undefined, op: string): ResolveContext => {
      if (typeof tenantId !== 'string') throw invalidInput(op, ['tenantId'], 'invalid_type', 'must be a string');
      return { dialect: engine.dialect, table: t, tenantId, customTypes, context: `${name} ${op}` };
    };
    // Engine failures inside a transaction poison it: the engine may have rolled back already.
    const engineCall = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (error) {
        const mapped = toStorageError(name, operation, error);
        if (!(mapped instanceof CrmError) || mapped.code === 'STORAGE') state.poisoned ??= mapped;
        throw mapped;
      }
    };

    return {
      async getMany(entity, tenantId, ids) {
        const t = guard(entity);
        if (typeof tenantId !== 'string') throw invalidInput(`${name} getMany`, ['tenantId'], 'invalid_type', 'must be a string');
        if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw invalidInput(`${name} getMany`, ['ids'], 'invalid_type', 'must be an array of strings');
        if (ids.length === 0) return [];
        const docs = await engineCall('getMany', () => session.readDocs(t, tenantId, ids));
        return ids.map((id) => docs.get(id));
      },

      async query(entity, tenantId, spec: QuerySpec) {
        const t = guard(entity);
        const { query, limit } = compilePageQuery(context(t, tenantId, spec.customTypes, 'query'), spec);
        const raw = await engineCall('query', () => session.select(query));
        const rows: Row[] = new Array(raw.length);
        for (let i = 0; i < raw.length; i++) rows[i] = engine.dialect.readDoc(raw[i]![0]);
        if (limit === undefined || rows.length <= limit) return { rows };
        rows.length = limit;
        return { rows, nextCursor: encodeCursor(rows[limit - 1]!, spec.sort ?? []) };
      },

      async aggregate(entity, tenantId, spec: AggregateSpec): Promise<AggregateRow[]> {
        const t = guard(entity);
        const compiled = compileAggregate(context(t, tenantId, spec.customTypes, 'aggregate'), spec);
        return compiled.read(await engineCall('aggregate', () => session.select(compiled.query)));
      },

      async write(entity, tenantId, ops: readonly WriteOp[]) {
        const t = guard(entity);
        if (!writable) throw storageFailure(name, 'write', 'Cannot write in a read-only transaction');
        try {
          if (!Array.isArray(ops)) throw invalidInput(`${name} write`, ['ops'], 'invalid_type', 'must be an array of writes');
          if (typeof tenantId !== 'string') throw invalidInput(`${name} write`, ['tenantId'], 'invalid_type', 'must be a string');
          for (const op of ops) {
            if (op?.type !== 'insert' && op?.type !== 'update' && op?.type !== 'delete') {
              throw invalidInput(`${name} write`, ['ops'], 'invalid_value', 'each write must be an insert, update or delete');
            }
            assertRowTenant(entity, tenantId, op);
            if (op.type === 'delete' && typeof op.id !== 'string') throw invalidInput(`${name} write`, ['id'], 'invalid_type', 'must be a string');
            if (op.type === 'update' && typeof op.expectedVersion !== 'number') throw invalidInput(`${name} write`, ['expectedVersion'], 'invalid_type', 'must be a number');
          }
          if (ops.length === 0) return;
          await session.write(t, tenantId, ops);
        } catch (error) {
          // A failed write poisons the transaction: it will roll back even if the caller catches this.
          const mapped = toStorageError(name, 'write', error);
          state.poisoned ??= mapped;
          throw mapped;
        }
        for (const op of ops) {
          state.changes.push(
            op.type === 'delete' ? { entity, tenantId, id: op.id, op: 'delete' } : { entity, tenantId, id: op.row.id, op: 'put', row: op.row },
          );
        }
      },
    };
  }

  function finishActive(): void {
    active--;
    if (active === 0 && drained) drained();
  }

  async function run<T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T> {
    const queue = mode === 'rw' ? writers : readers;
    const release = queue ? await queue.acquire() : undefined;
    let session: SqlSession | undefined;
    const state: TxState = { done: false, poisoned: undefined, changes: [] };
    let committed: Change[] | undefined;
    try {
      assertAdapterOpen(closed, name);
      try {
        session = await engine.begin(mode);
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
        await session.commit();
      } catch (error) {
        await session.rollback();
        throw toStorageError(name, 'commit', error);
      }
      committed = state.changes;
      return result;
    } finally {
      state.done = true;
      session?.release();
      release?.();
      if (committed) emit(committed);
    }
  }

  return {
    name,
    capabilities,

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
        const release = await writers.acquire();
        try {
          assertAdapterOpen(closed, name);
          await engine.open(schema, next);
          layout = next;
        } catch (error) {
          throw toStorageError(name, 'open', error);
        } finally {
          release();
        }
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

    async transaction<T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T> {
      assertAdapterOpen(closed, name);
      if (mode !== 'r' && mode !== 'rw') throw invalidInput(`${name} transaction`, ['mode'], 'invalid_value', 'must be "r" or "rw"');
      if (typeof fn !== 'function') throw invalidInput(`${name} transaction`, ['fn'], 'invalid_type', 'must be a function');
      if (!layout) {
        if (opening) await opening;
        if (!layout) throw storageFailure(name, 'transaction', `The ${name} storage was used before open()`);
      }
      active++;
      try {
        return await run(mode, fn);
      } finally {
        finishActive();
      }
    },

    onChange(listener) {
      if (typeof listener !== 'function') throw invalidInput(`${name} onChange`, ['listener'], 'invalid_type', 'must be a function');
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    close() {
      closing ??= (async () => {
        closed = true;
        listeners.clear();
        await opening?.catch(() => undefined);
        if (active > 0) await new Promise<void>((resolve) => (drained = resolve));
        await engine.close();
      })();
      return closing;
    },
  };
}
