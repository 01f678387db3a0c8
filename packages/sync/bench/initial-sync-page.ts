/**
 * The initial-sync benchmark inside Chromium (design sync.md §14): a new device pulls every row from
 * the Node server (pages of `pageRows`) into IndexedDB, against a raw IndexedDB import of the same
 * rows — the device's synced rows as stored, put with plain IndexedDB requests into stores with the
 * crmkit stores' key path and indexes, `pageRows` rows per transaction. And a connected device's
 * latency: the time from a server change to an observer seeing it (stamps read by the runner).
 */
import { createCrm } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { observers } from '@crmkit/core/observe';
import { CRM_STORAGE_SCHEMA, type Row } from '@crmkit/core/storage';
import { tasks } from '@crmkit/core/tasks';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import { createSyncClient, isSynced, replicaStorage, SYNCED_ENTITIES, syncReplica } from '@crmkit/sync';

const TENANT = 'acme';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** A raw database with the crmkit stores and the same indexes (as @crmkit/storage-indexeddb's bench builds it). */
function openRaw(name: string): Promise<IDBDatabase> {
  const r = indexedDB.open(name, 1);
  r.onupgradeneeded = () => {
    for (const entity of CRM_STORAGE_SCHEMA.entities) {
      const os = r.result.createObjectStore(entity.name, { keyPath: ['tenantId', 'id'] });
      for (const index of entity.indexes) {
        const list = index.fields.length === 1 && entity.fields[index.fields[0]!] === 'string[]';
        os.createIndex(index.name, list ? index.fields[0]! : ['tenantId', ...index.fields], { multiEntry: list });
      }
    }
  };
  return request(r);
}

let pulled: [string, Row[]][] = [];
const seen: Record<string, number> = {};

const api = {
  /** A new device's first sync, timed from `syncNow()` to its end (the database already open); keeps the rows for `rawImport`. */
  async initialSync(database: string, pageRows: number): Promise<{ ms: number; rows: number }> {
    const inner = createIndexedDbStorage({ name: database });
    const crm = await createCrm({ storage: replicaStorage(inner), tenantId: TENANT, actor: { userId: 'bench' }, features: [tasks(), activities(), syncReplica()] as const });
    const sync = await createSyncClient({ crm, endpoint: '/sync', headers: () => ({ 'x-user': 'bench' }), start: false, pageRows });
    const started = performance.now();
    await sync.syncNow();
    const ms = performance.now() - started;
    pulled = await inner.transaction('r', async (tx) => {
      const out: [string, Row[]][] = [];
      for (const entity of SYNCED_ENTITIES) out.push([entity, (await tx.query(entity, TENANT, {})).rows.filter((r) => isSynced(entity, r.id))]);
      return out;
    });
    await sync.stop();
    await crm.close();
    return { ms, rows: pulled.reduce((n, [, rows]) => n + rows.length, 0) };
  },
  /** The last initial sync's rows put raw, `pageRows` per readwrite transaction (timed after the open). */
  async rawImport(database: string, pageRows: number): Promise<{ ms: number }> {
    const db = await openRaw(database);
    const rows = pulled.flatMap(([entity, list]) => list.map((row) => [entity, row] as const));
    const started = performance.now();
    for (let i = 0; i < rows.length; i += pageRows) {
      const chunk = rows.slice(i, i + pageRows);
      const tx = db.transaction([...new Set(chunk.map(([entity]) => entity))], 'readwrite');
      for (const [entity, row] of chunk) tx.objectStore(entity).put(row);
      await finished(tx);
    }
    const ms = performance.now() - started;
    db.close();
    return { ms };
  },
  /** Reference: the same rows inserted through the crmkit IndexedDB adapter (`tx.write`), `pageRows` per transaction, no sync. */
  async adapterImport(database: string, pageRows: number): Promise<{ ms: number }> {
    const storage = createIndexedDbStorage({ name: database });
    await storage.open(CRM_STORAGE_SCHEMA);
    const rows = pulled.flatMap(([entity, list]) => list.map((row) => [entity, row] as const));
    const started = performance.now();
    for (let i = 0; i < rows.length; i += pageRows) {
      const byEntity = new Map<string, Row[]>();
      for (const [entity, row] of rows.slice(i, i + pageRows)) byEntity.set(entity, [...(byEntity.get(entity) ?? []), row]);
      await storage.transaction('rw', async (tx) => {
        for (const [entity, list] of byEntity) await tx.write(entity, TENANT, list.map((row) => ({ type: 'insert' as const, row })));
      });
    }
    const ms = performance.now() - started;
    await storage.close();
    return { ms };
  },
  /** Drops a database (between rounds: the profile stays small). */
  async drop(database: string): Promise<void> {
    await request(indexedDB.deleteDatabase(database)).catch(() => undefined);
  },
  /** A connected device (live stream) observing `dealId`: `seen[title]` = the wall-clock ms its observer first showed that title. */
  async connect(database: string, dealId: string): Promise<void> {
    const crm = await createCrm({ storage: replicaStorage(createIndexedDbStorage({ name: database })), tenantId: TENANT, actor: { userId: 'bench' }, features: [tasks(), activities(), observers(), syncReplica()] as const });
    const sync = await createSyncClient({ crm, endpoint: '/sync', headers: () => ({ 'x-user': 'bench' }) });
    const deal = crm.observe.deal(dealId);
    deal.subscribe(() => {
      const title = deal.getSnapshot().data?.title;
      if (title && !(title in seen)) seen[title] = Date.now();
    });
    await new Promise<void>((resolve) => {
      const check = () => (sync.status().live === 'sse' && sync.status().lastSyncAt ? resolve() : setTimeout(check, 20));
      check();
    });
  },
  seen: (title: string): number | undefined => seen[title],
};
declare global {
  interface Window {
    crmkitSyncBench: typeof api;
  }
}
window.crmkitSyncBench = api;
