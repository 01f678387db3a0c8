import type { ChangeBatch, StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, type Row } from '@crmkit/core/storage';
import type { IndexedDbStorageOptions } from '@crmkit/storage-indexeddb';

/** Fresh-database options with the implementation made explicit, so tests can open raw connections. */
export type EnvOptions = IndexedDbStorageOptions & { readonly indexedDB: IDBFactory; readonly IDBKeyRange: typeof IDBKeyRange };

/**
 * Where the shared specs run: fake-indexeddb in Node, or the real IndexedDB of headless Chromium.
 * Specs must only use what this gives them, so the same code runs in both.
 */
export interface IdbTestEnv {
  readonly label: string;
  /** Options for a new, empty database with a unique name. */
  options(extra?: Partial<IndexedDbStorageOptions>): EnvOptions;
  /** The IndexedDB classes in use: tests patch their prototypes to inject failures and count reads. */
  readonly classes: { readonly IDBObjectStore: typeof IDBObjectStore; readonly IDBIndex: typeof IDBIndex; readonly IDBTransaction: typeof IDBTransaction };
  /** Simulates the browser dropping a connection (storage cleared in DevTools), where possible in-process. */
  readonly forceClose?: (db: IDBDatabase) => void;
}

/** A deal-shaped row. */
export function row(id: string, fields: Record<string, unknown> = {}, tenantId = 't1'): Row {
  return { id, tenantId, version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...fields } as Row;
}

export async function seed(adapter: StorageAdapter, rows: readonly Row[], entity = 'deal', tenantId = 't1'): Promise<void> {
  await adapter.transaction('rw', (tx) => tx.write(entity, tenantId, rows.map((r) => ({ type: 'insert' as const, row: r }))));
}

export async function readAll(adapter: StorageAdapter, entity = 'deal', tenantId = 't1'): Promise<Row[]> {
  return adapter.transaction('r', async (tx) => (await tx.query(entity, tenantId, { sort: [{ field: 'id' }] })).rows);
}

/** Resolves with what the promise rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Records every change batch of an adapter. */
export function recordBatches(adapter: StorageAdapter): ChangeBatch[] {
  const batches: ChangeBatch[] = [];
  adapter.onChange((b) => batches.push(b));
  return batches;
}

/** Waits until `check` passes or the time is up (for cross-connection deliveries). */
export async function eventually(check: () => void, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > end) throw error;
      await sleep(10);
    }
  }
}

/**
 * Remembers the connections the global IndexedDB factory opens (the adapter opens through it), so a
 * test can force-close the adapter's; `restore` removes the spy.
 */
export function spyOpens(factory: IDBFactory): { opened: IDBDatabase[]; restore(): void } {
  const opened: IDBDatabase[] = [];
  const open = factory.open;
  factory.open = function (this: IDBFactory, name: string, version?: number) {
    const request = open.call(this, name, version);
    request.addEventListener('success', () => opened.push(request.result));
    return request;
  };
  return { opened, restore: () => void delete (factory as { open?: unknown }).open };
}

/** Opens a raw connection at `version` (no upgrade work) that ignores `versionchange`. */
export function rawOpen(factory: IDBFactory, name: string, version?: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, version);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function deleteDatabase(factory: IDBFactory, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = factory.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
}

export { CRM_STORAGE_SCHEMA };
