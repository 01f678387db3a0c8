import { CrmError } from '@crmkit/core';
import { assertAdapterOpen, assertQueryableFields, assertRowTenant, assertSequenceArgs, assertStorableQuery, assertStorableRow, encodeString, fromStored, holderOf, queryCandidates, StagedWrites, storedForWrite, toStored, uniqueIndexOf, UniqueStaging, ViewChanges, type Change, type StorageTx, type StoredRecord, type StoredViewGroup, type StoreLayout } from '@crmkit/core/storage';
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
const inactive = (error: unknown) => ['TransactionInactiveError', 'InvalidStateError'].includes(String((error as Error | null)?.name));

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
  const check = () => {
    assertAdapterOpen(ctx.isClosed(), ADAPTER);
    if (done) throw storageError('The transaction has already finished', 'transaction', false);
    if (finished) throw lost();
  };
  const call = async <R>(entity: string, tenantId: string, body: (scope: ReadScope) => Promise<R>): Promise<R> => {
    check();
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
        assertQueryableFields(scope.store.schema, spec);
        return queryCandidates(scope, spec);
      }),
    aggregate: (entity, tenantId, spec) =>
      call(entity, tenantId, (scope) => {
        assertStorableQuery(entity, spec);
        assertQueryableFields(scope.store.schema, spec);
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
          const os = raw.objectStore(entity);
          const stored = await storedForWrite(ops, scope.staged, {
            keys: (lower, upper, cap) => request(os.getAllKeys(IDBKeyRange.bound([tenantId, lower], [tenantId, upper]), cap)),
            get: (id) => request(os.get([tenantId, id])) as Promise<StoredRecord | undefined>,
          });
          const moved = staging.stage(entity, tenantId, ops, stored);
          const { store } = scope;
          // Holders of a unique value come from the field's multi-entry index (values alone: every tenant's).
          if (store.schema.unique) await unique.apply(store.schema, tenantId, moved, async (field, value) => holderOf((await request(os.index(uniqueIndexOf(store, field, ADAPTER)).getAll(value))) as StoredRecord[], tenantId));
          const groups = raw.objectStore(VIEWS);
          await views.apply(scope.store, tenantId, moved, (k) => request(groups.get(k)) as Promise<StoredViewGroup | undefined>);
        } catch (error) {
          throw (poisoned ??= translate(error));
        }
      }),
    async nextSequence(name, tenantId, count) {
      check();
      if (!ctx.writable) throw storageError('Cannot reserve sequence numbers in a read-only transaction', 'nextSequence', false);
      assertSequenceArgs(name, tenantId, count);
      try {
        // Readwrite transactions over the same stores never overlap: the counter is ours until commit.
        return await staging.reserve(tenantId, name, count, async () => ((await request(raw.objectStore(SEQUENCE_STORE).get([tenantId, name]))) as SequenceRecord | undefined)?.value);
      } catch (error) {
        throw (poisoned ??= translate(error));
      }
    },
    async lockKeys() {
      check();
      // Readwrite transactions over the same stores never overlap: every key is ours already.
      if (!ctx.writable) throw storageError('Cannot lock keys in a read-only transaction', 'lockKeys', false);
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
  if (staging.changes.length === 0 && staging.sequences.size === 0) return result;

  // Apply every staged write in one synchronous burst (see above), then wait for the commit.
  let applied = 0;
  try {
    if (finished) throw lost();
    for (const record of staging.sequences.values()) {
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
