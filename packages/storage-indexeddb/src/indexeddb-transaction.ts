import { CrmError } from '@crmkit/core';
import { assertAdapterOpen, assertRowTenant, assertSequenceArgs, assertStorableQuery, assertStorableRow, encodeString, fromStored, queryCandidates, StagedWrites, toStored, UniqueStaging, ViewChanges, type Change, type Row, type StorageTx, type StoredRecord, type StoredViewGroup, type StoreLayout, type WriteOp } from '@crmkit/core/storage';
import { request } from './idb-request.js';
import { scanPlan, type ReadScope } from './read-scope.js';
import { runAggregate } from './run-aggregate.js';
import { ADAPTER, engineError, storageError } from './storage-errors.js';
import { SEQUENCE_STORE, VIEWS, type DatabaseLayout, type SequenceRecord } from './store-layout.js';

/** What one transaction needs from its adapter. */
export interface TransactionContext {
  readonly tx: IDBTransaction;
  readonly writable: boolean;
  readonly layout: DatabaseLayout;
  isClosed(): boolean;
  /** Publishes the changes of a committed transaction. */
  committed(changes: readonly Change[]): void;
}

const abortError = () => new DOMException('The transaction was aborted', 'AbortError');
const idOf = (op: WriteOp) => (op.type === 'delete' ? op.id : op.row.id);
const inactive = (error: unknown) => ['TransactionInactiveError', 'InvalidStateError'].includes(String((error as Error | null)?.name));

/**
 * Reads the stored rows a batch of writes must check versions against. Updates and deletes are
 * fetched by key. Inserts only need to know that nothing is stored: one bounded key probe over the
 * range their ids span (`getAllKeys` with a cap) usually proves it in a single request — fresh ids are
 * time-ordered and clustered — and only ids found there (or all, if the cap is hit) are fetched.
 */
async function readForWrite(scope: ReadScope, ops: readonly WriteOp[]): Promise<Map<string, Row>> {
  const { tenantId, store, staged } = scope;
  const os = scope.tx.objectStore(store.entity);
  const fresh = ops.filter((op) => !staged?.has(idOf(op)));
  const others = new Set(fresh.filter((op) => op.type !== 'insert').map(idOf));
  let probe = fresh.filter((op) => op.type === 'insert' && !others.has(op.row.id)).map((op) => encodeString(idOf(op)));
  if (probe.length > 8) {
    const sorted = [...probe].sort();
    const cap = probe.length + 16;
    const keys = await request(os.getAllKeys(IDBKeyRange.bound([tenantId, sorted[0]!], [tenantId, sorted[sorted.length - 1]!]), cap));
    if (keys.length < cap) {
      const stored = new Set(keys.map((k) => (k as string[])[1]));
      probe = probe.filter((id) => stored.has(id));
    }
  }
  const keys = [...[...others].map(encodeString), ...probe];
  const records = (await Promise.all(keys.map((id) => request(os.get([tenantId, id]))))) as (StoredRecord | undefined)[];
  const found = new Map<string, Row>();
  for (const record of records) {
    const row = record && fromStored(record);
    if (row) found.set(row.id, row);
  }
  return found;
}

/**
 * The id of the stored row of the scope's tenant holding `value` of the unique list `field`, from the
 * field's multi-entry index (its keys are the values alone: holders in other tenants are skipped).
 */
async function storedHolder(scope: ReadScope, field: string, value: string): Promise<string | undefined> {
  const source = scope.store.indexes.find((ix) => ix.multi && ix.fields[0] === field);
  if (!source) throw storageError(`The unique field ${field} of ${scope.store.entity} has no index of its own`, 'write', false);
  const records = (await request(scope.tx.objectStore(scope.store.entity).index(source.name!).getAll(value))) as StoredRecord[];
  const holder = records.find((record) => record.tenantId === scope.tenantId);
  return holder && fromStored(holder).id;
}

/**
 * Runs `fn` in one IndexedDB transaction over every store.
 *
 * IndexedDB commits a transaction as soon as it waits on anything that is not one of its requests,
 * so a write applied directly could be committed half-way by a foreign `await` in `fn`. Writes are
 * therefore staged in memory (reads merge them, like the memory adapter) and applied together, in
 * one synchronous burst, when `fn` has resolved: the transaction is then either still active and
 * takes all of them, or it has auto-committed and takes none — never a part. A `tx` call after such
 * an auto-commit, or a staged write that finds the transaction gone, rejects with `STORAGE`
 * (`retryable: false`, nothing written), and the transaction rejects with it even if `fn` caught it.
 *
 * Version checks read the stored rows in the same engine transaction, and readwrite transactions
 * over the same stores are serialised by IndexedDB itself, across tabs too: no lost updates.
 */
export async function runTransaction<T>(ctx: TransactionContext, fn: (tx: StorageTx) => Promise<T>): Promise<T> {
  const raw = ctx.tx;
  const staging = new StagedWrites();
  const unique = new UniqueStaging();
  const views = new ViewChanges();
  /** Staged counters: `[tenantId, name]` → the record to put at commit. */
  const sequences = new Map<string, SequenceRecord>();
  let finished = false;
  let done = false;
  let aborted: unknown;
  let failure: CrmError | undefined;
  let poisoned: CrmError | undefined;
  const ended = new Promise<void>((resolve, reject) => {
    raw.addEventListener('complete', () => {
      finished = true;
      resolve();
    });
    raw.addEventListener('abort', () => {
      finished = true;
      reject((aborted = raw.error ?? abortError()));
    });
  });
  ended.catch(() => undefined);
  const abort = () => {
    try {
      raw.abort();
    } catch {
      // Already finished: nothing to roll back.
    }
  };

  // The transaction finished while fn runs: aborted under it (connection lost), or auto-committed
  // because fn awaited something else. The first such error sticks, even if fn catches it.
  const lost = (): CrmError =>
    (failure ??=
      aborted !== undefined
        ? engineError(aborted, 'transaction')
        : storageError('IndexedDB committed the transaction while fn awaited something other than a tx method: nothing was written', 'transaction', false));
  const translate = (error: unknown) => (error instanceof CrmError ? error : inactive(error) ? lost() : engineError(error, 'transaction'));
  const call = async <R>(entity: string, tenantId: string, body: (scope: ReadScope) => Promise<R>): Promise<R> => {
    assertAdapterOpen(ctx.isClosed(), ADAPTER);
    if (done) throw storageError('The transaction has already finished', 'transaction', false);
    if (finished) throw lost();
    const store = ctx.layout.stores.get(entity);
    if (!store) throw storageError(`Unknown entity "${entity}"`, 'transaction', false);
    try {
      return await body({ tx: raw, store, tenantId, staged: staging.of(entity, tenantId), views, scan: scanPlan(raw, store) });
    } catch (error) {
      throw translate(error);
    }
  };

  const tx: StorageTx = {
    getMany: (entity, tenantId, ids) =>
      call(entity, tenantId, ({ staged }) => {
        const os = raw.objectStore(entity);
        return Promise.all(
          ids.map(async (id) => {
            if (staged?.has(id)) return staged.get(id) ?? undefined;
            const record = (await request(os.get([tenantId, encodeString(id)]))) as StoredRecord | undefined;
            return record && fromStored(record);
          }),
        );
      }),
    query: (entity, tenantId, spec) =>
      call(entity, tenantId, (scope) => {
        assertStorableQuery(entity, spec);
        return queryCandidates(scope, spec);
      }),
    aggregate: (entity, tenantId, spec) =>
      call(entity, tenantId, (scope) => {
        assertStorableQuery(entity, spec);
        return runAggregate(scope, spec);
      }),
    write: (entity, tenantId, ops) =>
      call(entity, tenantId, async (scope) => {
        if (!ctx.writable) throw storageError('Cannot write in a read-only transaction', 'write', false);
        try {
          for (const op of ops) {
            assertRowTenant(entity, tenantId, op);
            assertStorableRow(entity, op);
          }
          const moved = staging.stage(entity, tenantId, ops, await readForWrite(scope, ops));
          if (scope.store.schema.unique) await unique.apply(scope.store.schema, tenantId, moved, (field, value) => storedHolder(scope, field, value));
          const groups = raw.objectStore(VIEWS);
          await views.apply(scope.store, tenantId, moved, (k) => request(groups.get(k)) as Promise<StoredViewGroup | undefined>);
        } catch (error) {
          throw (poisoned ??= translate(error));
        }
      }),
    async nextSequence(name, tenantId, count) {
      assertAdapterOpen(ctx.isClosed(), ADAPTER);
      if (done) throw storageError('The transaction has already finished', 'transaction', false);
      if (finished) throw lost();
      if (!ctx.writable) throw storageError('Cannot reserve sequence numbers in a read-only transaction', 'nextSequence', false);
      assertSequenceArgs(name, tenantId, count);
      const key = JSON.stringify([tenantId, name]);
      let last = sequences.get(key)?.value;
      if (last === undefined) {
        try {
          // Readwrite transactions over the same stores never overlap: the counter is ours until commit.
          const stored = (await request(raw.objectStore(SEQUENCE_STORE).get([tenantId, name]))) as SequenceRecord | undefined;
          last = stored?.value ?? 0;
        } catch (error) {
          throw (poisoned ??= translate(error));
        }
      }
      sequences.set(key, { tenantId, name, value: last + count });
      return last + 1;
    },
    claim: (entity, tenantId, spec) =>
      call(entity, tenantId, async (scope) => {
        if (!ctx.writable) throw storageError('Cannot claim rows in a read-only transaction', 'claim', false);
        // Readwrite transactions never overlap, so the rows are this transaction's until it ends.
        return (await queryCandidates(scope, { ...spec, after: undefined })).rows;
      }),
  };

  let result: T;
  try {
    result = await fn(tx);
  } catch (error) {
    done = true;
    abort();
    throw error;
  }
  done = true;
  if (poisoned ?? failure) {
    abort();
    throw poisoned ?? failure;
  }
  if (staging.changes.length === 0 && sequences.size === 0) return result;

  // Apply every staged write in one synchronous burst (see above), then wait for the commit.
  let applied = 0;
  try {
    if (finished) throw lost();
    for (const record of sequences.values()) {
      raw.objectStore(SEQUENCE_STORE).put(record);
      applied++;
    }
    for (const [entity, byTenant] of staging.rows) {
      const os = raw.objectStore(entity);
      const store = ctx.layout.stores.get(entity) as StoreLayout;
      for (const [tenantId, rows] of byTenant) {
        for (const [id, row] of rows) {
          if (row) os.put(toStored(store, row));
          else os.delete([tenantId, encodeString(id)]);
          applied++;
        }
      }
    }
    const groups = raw.objectStore(VIEWS);
    for (const group of views.groups.values()) {
      if (group.count) groups.put(group);
      else groups.delete(group.k);
    }
    raw.commit?.();
  } catch (error) {
    abort();
    // Inactive before the first write: fn awaited something foreign. Inactive later: aborted under us.
    throw applied && inactive(error) ? engineError(raw.error ?? abortError(), 'commit') : translate(error);
  }
  try {
    await ended;
  } catch (error) {
    throw engineError(error, 'commit');
  }
  if (staging.changes.length) ctx.committed(staging.changes);
  return result;
}
