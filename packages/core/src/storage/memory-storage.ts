import { CrmError, validationError } from '../errors/crm-error.js';
import { executeAggregate, executeQuery } from '../query/execute.js';
import type { AggregateSpec, QuerySpec } from '../query/query-spec.js';
import { assertOpen, assertRowTenant, assertSequenceArgs, assertQueryableFields, assertStorableQuery, assertStorableRow, checkRuntimeIndexes, checkWriteVersion, deliverChangeBatch } from './adapter-guards.js';
import { frozenCopy } from './deep-freeze.js';
import type { Change, ChangeBatch, Row, StorageAdapter, StorageCapabilities, StorageTx, WriteOp } from './storage-adapter.js';
import type { EntitySchema, StorageSchema } from './storage-schema.js';
import { UniqueStaging, uniqueValuesOf } from './unique-keys.js';

type TenantRows = Map<string, Row>;
type EntityRows = Map<string, TenantRows>;

/** A snapshot of everything stored, for assertions in tests: entity → tenant → rows sorted by id. */
export type MemorySnapshot = Record<string, Record<string, Row[]>>;

export interface MemoryStorage extends StorageAdapter {
  /** Every stored row, as a plain structure. Useful to assert "nothing was written". */
  snapshot(): MemorySnapshot;
}

const CAPABILITIES: StorageCapabilities = {
  filterOps: ['eq', 'in', 'lt', 'lte', 'gt', 'gte', 'prefix', 'containsAny', 'and', 'or'],
  sort: true,
  aggregate: true,
  durable: false,
  externalChanges: false,
};

/**
 * Creates the in-memory storage: the reference implementation of the storage contract, and the
 * fastest choice for tests. Data lives as long as the adapter. Stored rows are deeply frozen copies
 * of the rows written (already frozen parts are shared, not copied); reads hand them out as they are.
 *
 * @example
 * const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 'acme' });
 */
export function createMemoryStorage(): MemoryStorage {
  const data = new Map<string, EntityRows>();
  // Committed counters of nextSequence: `${tenantId}\u0000${name}` → last number handed out.
  const sequences = new Map<string, number>();
  const listeners = new Set<(batch: ChangeBatch) => void>();
  let closed = false;
  let opened = false;
  let writeLock: Promise<void> = Promise.resolve();
  let schema: StorageSchema | undefined;
  const entitySchemas = new Map<string, EntitySchema>();
  // Committed unique keys (`UniqueStaging.key`) → the id of the row holding them.
  const uniqueKeys = new Map<string, string>();

  const committedRows = (entity: string, tenantId: string): TenantRows | undefined => data.get(entity)?.get(tenantId);

  function assertReady(): void {
    assertOpen(closed, 'memory');
    if (!opened) throw new CrmError('STORAGE', 'The memory storage was used before open()', { adapter: 'memory', retryable: false });
  }

  function assertEntity(entity: string): void {
    if (!data.has(entity)) throw new CrmError('STORAGE', `Unknown entity "${entity}"`, { adapter: 'memory', retryable: false });
  }

  function makeTx(writable: boolean) {
    // Staged writes of this transaction: entity → tenant → id → row (null = deleted).
    const staged = new Map<string, Map<string, Map<string, Row | null>>>();
    const stagedSequences = new Map<string, number>();
    const changes: Change[] = [];
    const unique = new UniqueStaging();
    const state = { poisoned: undefined as unknown, done: false };

    const stagedOf = (entity: string, tenantId: string) => staged.get(entity)?.get(tenantId);
    const read = (entity: string, tenantId: string, id: string): Row | undefined => {
      const s = stagedOf(entity, tenantId);
      if (s?.has(id)) return s.get(id) ?? undefined;
      return committedRows(entity, tenantId)?.get(id);
    };
    function* visibleRows(entity: string, tenantId: string): Generator<Row> {
      const s = stagedOf(entity, tenantId);
      for (const [id, row] of committedRows(entity, tenantId) ?? []) if (!s?.has(id)) yield row;
      if (s) for (const row of s.values()) if (row) yield row;
    }
    const guard = (entity: string) => {
      if (state.done) throw new CrmError('STORAGE', 'The transaction has already finished', { adapter: 'memory', retryable: false });
      assertOpen(closed, 'memory');
      assertEntity(entity);
    };
    const guardWrite = (what: string) => {
      if (!writable) throw new CrmError('STORAGE', `Cannot ${what} in a read-only transaction`, { adapter: 'memory', retryable: false });
    };

    const tx: StorageTx = {
      async getMany(entity, tenantId, ids) {
        guard(entity);
        return ids.map((id) => read(entity, tenantId, id));
      },
      async query(entity, tenantId, spec: QuerySpec) {
        guard(entity);
        assertStorableQuery(entity, spec);
        assertQueryableFields(entitySchemas.get(entity)!, spec);
        return executeQuery(visibleRows(entity, tenantId), spec);
      },
      async aggregate(entity, tenantId, spec: AggregateSpec) {
        guard(entity);
        assertStorableQuery(entity, spec);
        assertQueryableFields(entitySchemas.get(entity)!, spec);
        return executeAggregate(visibleRows(entity, tenantId), spec);
      },
      async write(entity, tenantId, ops: readonly WriteOp[]) {
        guard(entity);
        if (!writable) throw new CrmError('STORAGE', 'Cannot write in a read-only transaction', { adapter: 'memory', retryable: false });
        try {
          for (const op of ops) {
            assertRowTenant(entity, tenantId, op);
            assertStorableRow(entity, op);
            const id = op.type === 'delete' ? op.id : op.row.id;
            const before = read(entity, tenantId, id);
            checkWriteVersion(entity, op, before);
            const entitySchema = entitySchemas.get(entity)!;
            if (entitySchema.unique) {
              await unique.apply(entitySchema, tenantId, [[before, op.type === 'delete' ? undefined : op.row]], (field, value) =>
                uniqueKeys.get(UniqueStaging.key(entity, tenantId, field, value)),
              );
            }
            let byTenant = staged.get(entity);
            if (!byTenant) staged.set(entity, (byTenant = new Map()));
            let rows = byTenant.get(tenantId);
            if (!rows) byTenant.set(tenantId, (rows = new Map()));
            if (op.type === 'delete') {
              rows.set(id, null);
              changes.push({ entity, tenantId, id, op: 'delete' });
            } else {
              // A frozen copy: the caller keeps owning its row, and rows handed out cannot change stored state.
              const row = frozenCopy(op.row);
              rows.set(id, row);
              changes.push({ entity, tenantId, id, op: 'put', row });
            }
          }
        } catch (error) {
          state.poisoned = error;
          throw error;
        }
      },
      async nextSequence(name, tenantId, count) {
        if (state.done) throw new CrmError('STORAGE', 'The transaction has already finished', { adapter: 'memory', retryable: false });
        assertOpen(closed, 'memory');
        guardWrite('reserve sequence numbers');
        assertSequenceArgs(name, tenantId, count);
        // Writers are serialised, so the counter is held until this transaction ends.
        const key = `${tenantId}\u0000${name}`;
        const last = stagedSequences.get(key) ?? sequences.get(key) ?? 0;
        stagedSequences.set(key, last + count);
        return last + 1;
      },
      async claim(entity, tenantId, spec: QuerySpec) {
        guard(entity);
        guardWrite('claim rows');
        // Writers never overlap: the rows are this transaction's until it ends.
        return executeQuery(visibleRows(entity, tenantId), { ...spec, after: undefined }).rows;
      },
      // Writers never overlap: every key is this transaction's already.
      async lockKeys() {
        guardWrite('lock keys');
      },
    };

    const commit = (): Change[] => {
      for (const [key, value] of stagedSequences) sequences.set(key, value);
      for (const [key, holder] of unique.keys) {
        if (holder === null) uniqueKeys.delete(key);
        else uniqueKeys.set(key, holder);
      }
      for (const [entity, byTenant] of staged) {
        const entityRows = data.get(entity)!;
        for (const [tenantId, rows] of byTenant) {
          let target = entityRows.get(tenantId);
          if (!target) entityRows.set(tenantId, (target = new Map()));
          for (const [id, row] of rows) {
            if (row) target.set(id, row);
            else target.delete(id);
          }
        }
      }
      return changes;
    };
    return { tx, state, commit };
  }

  function emit(changes: Change[]): void {
    if (changes.length === 0) return;
    deliverChangeBatch(listeners, { source: 'local', changes });
  }

  const adapter: MemoryStorage = {
    name: 'memory',
    capabilities: CAPABILITIES,

    async open(next: StorageSchema) {
      assertOpen(closed, 'memory');
      for (const entity of next.entities) {
        if (!data.has(entity.name)) data.set(entity.name, new Map());
        entitySchemas.set(entity.name, entity);
        // Rows written before a field became unique get their keys (a conflict among them stays: forward-only).
        for (const field of entity.unique ?? []) {
          for (const [tenantId, rows] of data.get(entity.name)!) {
            for (const row of rows.values()) for (const value of uniqueValuesOf(row, field)) uniqueKeys.set(UniqueStaging.key(entity.name, tenantId, field, value), row.id);
          }
        }
      }
      schema = next;
      opened = true;
    },

    async ensureIndexes(indexes) {
      assertReady();
      // Memory has no indexes: every query scans (it is the reference, not a database).
      checkRuntimeIndexes(schema, indexes);
    },

    async transaction<T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T> {
      assertReady();
      if (mode === 'r') {
        const { tx, state } = makeTx(false);
        try {
          return await fn(tx);
        } finally {
          state.done = true;
        }
      }
      // Serialise writers: each waits for the previous one to finish.
      const previous = writeLock;
      let release!: () => void;
      writeLock = new Promise<void>((resolve) => (release = resolve));
      await previous;
      const { tx, state, commit } = makeTx(true);
      let changes: Change[] | undefined;
      try {
        const result = await fn(tx);
        if (state.poisoned !== undefined) throw state.poisoned;
        assertOpen(closed, 'memory');
        changes = commit();
        return result;
      } finally {
        state.done = true;
        release();
        if (changes) emit(changes);
      }
    },

    async getMany(entity, tenantId, ids) {
      assertReady();
      assertEntity(entity);
      if (!Array.isArray(ids)) throw validationError('memory getMany', [{ path: ['ids'], code: 'invalid_type', message: 'must be an array of strings' }]);
      return ids.map((id) => committedRows(entity, tenantId)?.get(id));
    },

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async close() {
      closed = true;
      listeners.clear();
    },

    snapshot() {
      const out: MemorySnapshot = {};
      for (const [entity, byTenant] of data) {
        const tenants: Record<string, Row[]> = {};
        for (const [tenantId, rows] of byTenant) {
          if (rows.size > 0) tenants[tenantId] = [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        }
        out[entity] = tenants;
      }
      return out;
    },
  };
  return adapter;
}
