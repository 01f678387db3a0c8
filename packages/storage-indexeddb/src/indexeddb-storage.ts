import { assertAdapterOpen, CrmError, type Change, type ChangeBatch, type StorageAdapter, type StorageCapabilities, type StorageSchema, type StorageTx } from '@crmkit/core';
import type { IDBPDatabase } from 'idb';
import { openChangeChannel, type ChangeChannel } from './change-channel.js';
import { connect } from './connection.js';
import type { IndexedDbStorageOptions } from './indexeddb-storage-options.js';
import { runTransaction } from './indexeddb-transaction.js';
import type { KeyApi } from './query-planner.js';
import { ADAPTER, engineError, storageError } from './storage-errors.js';
import { buildLayout, type DatabaseLayout } from './store-layout.js';

/** The IndexedDB storage adapter. */
export interface IndexedDbStorage extends StorageAdapter {
  /** Name of the IndexedDB database. */
  readonly databaseName: string;
}

/**
 * Creates the browser storage adapter: crmkit data in IndexedDB (through idb), one object store per
 * entity with compound indexes for the hot queries, and committed changes propagated to other tabs
 * with a BroadcastChannel.
 *
 * Inside `transaction(mode, fn)`, `fn` must only await `tx` methods. Writes are staged and applied
 * together when `fn` resolves; awaiting anything else (a `fetch`, a timer) lets IndexedDB commit the
 * transaction early, and the adapter then rejects with `STORAGE` and writes nothing.
 *
 * @param options Database name and, for tests, the IndexedDB implementation.
 * @returns An adapter to pass to `createCrm`; it opens the database on `open()`.
 * @example
 * import { createCrm } from '@crmkit/core';
 * import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
 * const crm = await createCrm({ storage: createIndexedDbStorage({ name: 'crm' }), tenantId: 'acme' });
 */
export function createIndexedDbStorage(options: IndexedDbStorageOptions): IndexedDbStorage {
  if (typeof options?.name !== 'string' || options.name.length === 0) {
    throw new CrmError('VALIDATION', 'createIndexedDbStorage needs a database name', {
      issues: [{ path: ['name'], code: 'required', message: 'must be a non-empty string' }],
    });
  }
  const name = options.name;
  const Channel = options.broadcastChannel === false ? undefined : (options.broadcastChannel ?? globalThis.BroadcastChannel);
  const capabilities: StorageCapabilities = {
    filterOps: ['eq', 'in', 'lt', 'lte', 'gt', 'gte', 'prefix', 'containsAny', 'and'],
    sort: false,
    aggregate: false,
    durable: true,
    externalChanges: typeof Channel === 'function',
  };
  const listeners = new Set<(batch: ChangeBatch) => void>();
  let layout: DatabaseLayout | undefined;
  let db: IDBPDatabase | undefined;
  let opening: Promise<IDBPDatabase> | undefined;
  let channel: ChangeChannel | undefined;
  let closed = false;

  const factory = () => {
    const found = options.indexedDB ?? globalThis.indexedDB;
    if (!found) throw storageError('IndexedDB is not available in this environment', 'open', false);
    return found;
  };
  const api = (): KeyApi => ({ range: options.IDBKeyRange ?? globalThis.IDBKeyRange, cmp: (a, b) => factory().cmp(a, b) });

  function emit(batch: ChangeBatch): void {
    for (const listener of [...listeners]) {
      try {
        listener(batch);
      } catch (error) {
        console.error('crmkit: a storage change listener threw', error);
      }
    }
  }

  /** The open connection, or a new one when it was lost (versionchange, browser closed it). */
  function connection(): Promise<IDBPDatabase> {
    if (db) return Promise.resolve(db);
    return (opening ??= connect({
      factory: factory(),
      name,
      layout: layout!,
      timeoutMs: options.blockedTimeoutMs ?? 5000,
      onLost: (lost) => {
        if (db === lost) db = undefined;
      },
    })
      .then((opened) => {
        if (closed) {
          opened.close();
          assertAdapterOpen(closed, ADAPTER);
        }
        return (db = opened);
      })
      .finally(() => (opening = undefined)));
  }

  const adapter: IndexedDbStorage = {
    name: ADAPTER,
    databaseName: name,
    capabilities,

    async open(schema: StorageSchema) {
      assertAdapterOpen(closed, ADAPTER);
      const next = buildLayout(schema);
      if (layout && layout.version !== next.version) {
        await opening?.catch(() => undefined);
        db?.close();
        db = undefined;
      }
      layout = next;
      await connection();
      if (Channel && !channel) channel = openChangeChannel(Channel, name, (changes) => emit({ source: 'external', changes }));
    },

    async transaction<T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T> {
      assertAdapterOpen(closed, ADAPTER);
      if (!layout) throw storageError('The indexeddb storage was used before open()', 'transaction', false);
      const current = layout;
      let tx;
      for (let attempt = 0; ; attempt++) {
        const idb = db ?? (await connection());
        try {
          tx = idb.transaction(current.storeNames as string[], mode === 'rw' ? 'readwrite' : 'readonly');
          break;
        } catch (error) {
          // The connection is closing (another tab upgrades, or the browser dropped it): reopen once.
          if (db === idb) db = undefined;
          if (attempt > 0 || (error as { name?: string }).name !== 'InvalidStateError') throw engineError(error, 'transaction');
        }
      }
      return runTransaction({
        tx,
        writable: mode === 'rw',
        layout: current,
        api: api(),
        isClosed: () => closed,
        committed(changes: readonly Change[]) {
          emit({ source: 'local', changes });
          channel?.post(changes);
        },
      }, fn);
    },

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      channel?.close();
      channel = undefined;
      db?.close();
      db = undefined;
    },
  };
  return adapter;
}
