import { CrmError } from '@crmkit/core';
import { assertAdapterOpen, checkRuntimeIndexes, deliverChangeBatch, RUNTIME_INDEX, type Change, type ChangeBatch, type StorageAdapter, type StorageSchema, type StorageTx } from '@crmkit/core/storage';
import { openChangeChannel, type ChangeChannel } from './change-channel.js';
import { connect, type Connection } from './connection.js';
import type { IndexedDbStorageOptions } from './indexeddb-storage-options.js';
import { runTransaction } from './indexeddb-transaction.js';
import { ADAPTER, engineError, storageError } from './storage-errors.js';
import { buildLayout, SEQUENCE_STORE, type DatabaseLayout } from './store-layout.js';

/** The IndexedDB storage adapter. */
export interface IndexedDbStorage extends StorageAdapter {
  /** Name of the IndexedDB database. */
  readonly databaseName: string;
}

/**
 * Creates the browser storage adapter: crmkit data in IndexedDB, one object store per
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
export function createIndexedDbStorage(input: IndexedDbStorageOptions): IndexedDbStorage {
  let options = {} as IndexedDbStorageOptions;
  try {
    options = { ...input }; // read once
  } catch {
    // Options that cannot be read (a throwing getter) are refused below like missing ones: VALIDATION.
  }
  const name = options.name;
  if (typeof name !== 'string' || !name) {
    throw new CrmError('VALIDATION', 'createIndexedDbStorage needs a database name', { issues: [{ path: ['name'], code: 'required', message: 'must be a non-empty string' }] });
  }
  const Channel = options.broadcastChannel === false ? undefined : (options.broadcastChannel ?? globalThis.BroadcastChannel);
  const listeners = new Set<(batch: ChangeBatch) => void>();
  let schema: StorageSchema | undefined;
  let layout: DatabaseLayout | undefined;
  /** Runtime indexes asked for (`ensureIndexes`): entity → fields. Reconnects keep them. */
  const runtime = new Map<string, Set<string>>();
  let db: Connection | undefined;
  let opening: Promise<Connection> | undefined;
  let channel: ChangeChannel | undefined;
  let closed = false;

  const emit = (batch: ChangeBatch) => deliverChangeBatch(listeners, batch);

  /** The open connection, or a new one when it was lost (versionchange, browser closed it). */
  const connection = (): Promise<Connection> =>
    db
      ? Promise.resolve(db)
      : (opening ??= connect({
          name,
          runtime,
          layout: layout!,
          timeoutMs: options.blockedTimeoutMs ?? 5000,
          onLost: (lost) => {
            if (db?.db === lost) db = undefined;
          },
        })
          .then((opened) => {
            if (closed) opened.db.close();
            assertAdapterOpen(closed, ADAPTER);
            return (db = opened);
          })
          .finally(() => (opening = undefined)));

  return {
    name: ADAPTER,
    databaseName: name,
    capabilities: {
      filterOps: ['eq', 'in', 'lt', 'lte', 'gt', 'gte', 'prefix', 'containsAny', 'and'],
      sort: false,
      aggregate: false,
      durable: true,
      externalChanges: typeof Channel === 'function',
    },

    async open(declared: StorageSchema) {
      assertAdapterOpen(closed, ADAPTER);
      const next = buildLayout((schema = declared));
      if (layout && layout.version !== next.version) {
        await opening?.catch(() => undefined);
        db?.db.close();
        db = undefined;
      }
      layout = next;
      await connection();
      if (Channel) channel ??= openChangeChannel(Channel, name, (changes) => emit({ source: 'external', changes }));
    },

    async transaction<T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T> {
      assertAdapterOpen(closed, ADAPTER);
      if (!layout) throw storageError('The storage was used before open()', 'transaction', false);
      for (let attempt = 0; ; attempt++) {
        const current = db ?? (await connection());
        let tx;
        try {
          // Every store, counters included: readwrite transactions then never overlap, across tabs too.
          tx = current.db.transaction([...current.layout.storeNames, SEQUENCE_STORE], mode === 'rw' ? 'readwrite' : 'readonly');
        } catch (error) {
          // The connection is closing (another tab upgrades, or the browser dropped it): reopen once.
          if (db === current) db = undefined;
          if (attempt || (error as Error).name !== 'InvalidStateError') throw engineError(error, 'transaction');
          continue;
        }
        return runTransaction(
          {
            tx,
            writable: mode === 'rw',
            layout: current.layout,
            isClosed: () => closed,
            committed(changes: readonly Change[]) {
              emit({ source: 'local', changes });
              channel?.post(changes);
            },
          },
          fn,
        );
      }
    },

    async ensureIndexes(indexes) {
      assertAdapterOpen(closed, ADAPTER);
      if (!layout) throw storageError('The storage was used before open()', 'ensureIndexes', false);
      checkRuntimeIndexes(schema, indexes);
      for (const { entity, field } of indexes) (runtime.get(entity) ?? runtime.set(entity, new Set()).get(entity)!).add(field);
      const current = await connection();
      const has = (entity: string, field: string) => current.layout.stores.get(entity)?.indexes.some((ix) => ix.name === RUNTIME_INDEX + field);
      if (indexes.every(({ entity, field }) => has(entity, field))) return;
      // A new connection upgrades the database; the current one closes itself on its versionchange.
      if (db === current) db = undefined;
      await connection();
    },

    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    async close() {
      closed = true;
      listeners.clear();
      channel?.close();
      channel = undefined;
      db?.db.close();
      db = undefined;
    },
  };
}
