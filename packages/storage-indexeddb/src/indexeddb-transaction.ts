import { assertAdapterOpen, assertRowTenant, checkWriteVersion, CrmError, type Change, type Row, type StorageTx, type WriteOp } from '@crmkit/core';
import { unwrap } from 'idb';
import { encodeString } from './key-encoding.js';
import type { KeyApi } from './query-planner.js';
import type { AnyTransaction, ReadScope } from './read-scope.js';
import { runAggregate } from './run-aggregate.js';
import { runQuery } from './run-query.js';
import { ADAPTER, engineError, storageError } from './storage-errors.js';
import { toStored, type DatabaseLayout, type StoredRecord, type StoreLayout } from './store-layout.js';

/** What one transaction needs from its adapter. */
export interface TransactionContext {
  readonly tx: AnyTransaction;
  readonly writable: boolean;
  readonly layout: DatabaseLayout;
  readonly api: KeyApi;
  isClosed(): boolean;
  /** Publishes the changes of a committed transaction. */
  committed(changes: readonly Change[]): void;
}

type Staging = Map<string, Map<string, Map<string, Row | null>>>;

/**
 * Reads the stored rows a batch of writes must check versions against. Updates and deletes are
 * fetched by key. Inserts only need to know that nothing is stored: one bounded key probe over the
 * range their ids span (`getAllKeys` with a cap) usually proves it in a single request — fresh ids are
 * time-ordered and clustered — and only ids found there (or all, if the cap is hit) are fetched.
 */
async function readForWrite(scope: ReadScope, ops: readonly WriteOp[], staged: ReadonlyMap<string, Row | null>): Promise<Map<string, Row>> {
  const os = scope.tx.objectStore(scope.store.entity);
  const key = (id: string) => [scope.tenantId, encodeString(id)];
  const inserts: string[] = [];
  const others = new Set<string>();
  for (const op of ops) {
    const id = op.type === 'delete' ? op.id : op.row.id;
    if (staged.has(id)) continue;
    if (op.type === 'insert') inserts.push(id);
    else others.add(id);
  }
  let probe = inserts.filter((id) => !others.has(id));
  if (probe.length > 8) {
    const ids = probe.map(encodeString);
    let lo = ids[0]!;
    let hi = lo;
    for (const id of ids) {
      if (id < lo) lo = id;
      if (id > hi) hi = id;
    }
    const cap = ids.length + 16;
    const keys = await os.getAllKeys(scope.api.range.bound([scope.tenantId, lo], [scope.tenantId, hi]), cap);
    if (keys.length < cap) {
      const existing = new Set(keys.map((k) => (k as string[])[1]));
      probe = probe.filter((id, i) => existing.has(ids[i]!));
    }
  }
  const ids = [...others, ...probe];
  const records = await Promise.all(ids.map((id) => os.get(key(id)) as Promise<StoredRecord | undefined>));
  const found = new Map<string, Row>();
  ids.forEach((id, i) => records[i] && found.set(id, records[i].r));
  return found;
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
  const raw = unwrap(ctx.tx);
  const staging: Staging = new Map();
  const changes: Change[] = [];
  const state = { finished: false, done: false, aborted: undefined as unknown, failure: undefined as CrmError | undefined, poisoned: undefined as unknown };
  const ended = new Promise<void>((resolve, reject) => {
    raw.addEventListener('complete', () => {
      state.finished = true;
      resolve();
    });
    raw.addEventListener('abort', () => {
      state.finished = true;
      state.aborted = raw.error ?? new DOMException('The transaction was aborted', 'AbortError');
      reject(state.aborted);
    });
  });
  ended.catch(() => undefined);
  ctx.tx.done.catch(() => undefined); // idb's own promise of the same outcome: handled above
  const abort = () => {
    try {
      raw.abort();
    } catch {
      // Already finished: nothing to roll back.
    }
  };

  // A transaction that finished while fn still runs was aborted (connection lost) or auto-committed
  // because fn awaited something else; the first such error sticks.
  const lost = (): CrmError =>
    (state.failure ??=
      state.aborted !== undefined
        ? engineError(state.aborted, 'transaction')
        : storageError(
            'IndexedDB committed the transaction while it waited on something that is not a tx call: inside transaction(fn), fn must only await tx methods. Nothing was written.',
            'transaction',
            false,
          ));
  const translate = (error: unknown): CrmError => {
    const name = (error as { name?: string } | null)?.name;
    return name === 'TransactionInactiveError' || name === 'InvalidStateError' ? lost() : engineError(error, 'transaction');
  };
  const stagedOf = (entity: string, tenantId: string) => staging.get(entity)?.get(tenantId);
  const call = async <R>(entity: string, tenantId: string, body: (scope: ReadScope) => Promise<R>): Promise<R> => {
    assertAdapterOpen(ctx.isClosed(), ADAPTER);
    if (state.done) throw storageError('The transaction has already finished', 'transaction', false);
    if (state.finished) throw lost();
    const store: StoreLayout | undefined = ctx.layout.stores.get(entity);
    if (!store) throw storageError(`Unknown entity "${entity}"`, 'transaction', false);
    try {
      return await body({ tx: ctx.tx, api: ctx.api, store, tenantId, staged: stagedOf(entity, tenantId) });
    } catch (error) {
      throw error instanceof CrmError ? error : translate(error);
    }
  };

  const tx: StorageTx = {
    getMany: (entity, tenantId, ids) =>
      call(entity, tenantId, ({ staged }) => {
        const os = ctx.tx.objectStore(entity);
        return Promise.all(
          ids.map(async (id) => (staged?.has(id) ? (staged.get(id) ?? undefined) : ((await os.get([tenantId, encodeString(id)])) as StoredRecord | undefined)?.r)),
        );
      }),
    query: (entity, tenantId, spec) => call(entity, tenantId, (scope) => runQuery(scope, spec)),
    aggregate: (entity, tenantId, spec) => call(entity, tenantId, (scope) => runAggregate(scope, spec)),
    write: (entity, tenantId, ops) =>
      call(entity, tenantId, async (scope) => {
        if (!ctx.writable) throw storageError('Cannot write in a read-only transaction', 'write', false);
        try {
          for (const op of ops) assertRowTenant(entity, tenantId, op);
          let byTenant = staging.get(entity);
          if (!byTenant) staging.set(entity, (byTenant = new Map()));
          let staged = byTenant.get(tenantId);
          if (!staged) byTenant.set(tenantId, (staged = new Map()));
          const stored = await readForWrite(scope, ops, staged);
          for (const op of ops) {
            const id = op.type === 'delete' ? op.id : op.row.id;
            checkWriteVersion(entity, op, staged.has(id) ? (staged.get(id) ?? undefined) : stored.get(id));
            staged.set(id, op.type === 'delete' ? null : op.row);
            changes.push(op.type === 'delete' ? { entity, tenantId, id, op: 'delete' } : { entity, tenantId, id, op: 'put', row: op.row });
          }
        } catch (error) {
          const failure = error instanceof CrmError ? error : translate(error);
          state.poisoned ??= failure;
          throw failure;
        }
      }),
  };

  let result: T;
  try {
    result = await fn(tx);
  } catch (error) {
    state.done = true;
    abort();
    throw error;
  }
  state.done = true;
  const failure = state.poisoned ?? state.failure;
  if (failure !== undefined) {
    abort();
    throw failure;
  }
  if (changes.length === 0) return result;

  // Apply every staged write in one synchronous burst (see above), then wait for the commit.
  let applied = 0;
  try {
    if (state.finished) throw lost();
    for (const [entity, byTenant] of staging) {
      const os = raw.objectStore(entity);
      const store = ctx.layout.stores.get(entity)!;
      for (const [tenantId, rows] of byTenant) {
        for (const [id, row] of rows) {
          if (row) os.put(toStored(store, row));
          else os.delete([tenantId, encodeString(id)]);
          applied++;
        }
      }
    }
    raw.commit?.();
  } catch (error) {
    abort();
    // Inactive before the first write: fn awaited something foreign. Inactive later: aborted under us.
    const inactive = applied > 0 && ['TransactionInactiveError', 'InvalidStateError'].includes((error as { name?: string }).name!);
    throw error instanceof CrmError ? error : inactive ? engineError(raw.error ?? new DOMException('The transaction was aborted', 'AbortError'), 'commit') : translate(error);
  }
  try {
    await ended;
  } catch (error) {
    throw engineError(error, 'commit');
  }
  ctx.committed(changes);
  return result;
}
