import { fromStored, RUNTIME_INDEX, toStored, ViewChanges, withRuntimeIndexes, type StoredRecord, type StoreLayout } from '@crmkit/core/storage';
import { SEQUENCE_STORE, VIEWS, type DatabaseLayout } from './store-layout.js';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Migrates the database to `layout` inside the `versionchange` transaction: creates missing stores and
 * indexes, drops indexes the schema no longer declares (stores are kept: migrations are forward-only
 * and never delete data; runtime indexes are never dropped), adds the runtime indexes asked for, and
 * rewrites the records of a store that got a new index, so that their newly indexed fields get key
 * encodings and every row is in every index (placeholders of fields no longer indexed are harmless:
 * reads remove every top-level placeholder). Materialized aggregates whose definition differs from the
 * one they were built with (or that were never built) are rebuilt from the stored rows. It must run
 * synchronously in `upgradeneeded`; the rewrites continue through request callbacks, which keep the
 * upgrade transaction alive until they are done.
 */
export function upgradeDatabase(db: IDBDatabase, tx: IDBTransaction, layout: DatabaseLayout, runtime: ReadonlyMap<string, ReadonlySet<string>>): void {
  if (!db.objectStoreNames.contains(SEQUENCE_STORE)) db.createObjectStore(SEQUENCE_STORE, { keyPath: ['tenantId', 'name'] });
  const views = db.objectStoreNames.contains(VIEWS) ? tx.objectStore(VIEWS) : db.createObjectStore(VIEWS, { keyPath: 'k' });
  const stores: StoreLayout[] = [];
  for (const declared of layout.stores.values()) {
    const existed = db.objectStoreNames.contains(declared.entity);
    const os = existed ? tx.objectStore(declared.entity) : db.createObjectStore(declared.entity, { keyPath: declared.primary.keyPath });
    const kept = Array.from(os.indexNames).filter((name) => name.startsWith(RUNTIME_INDEX)).map((name) => name.slice(1));
    const store = withRuntimeIndexes(declared, [...kept, ...(runtime.get(declared.entity) ?? [])]);
    stores.push(store);
    let rewrite = false;
    for (const name of Array.from(os.indexNames)) {
      const want = store.indexes.find((ix) => ix.name === name);
      const have = os.index(name);
      if (!want || !same(have.keyPath, want.keyPath) || have.multiEntry !== want.multi) os.deleteIndex(name);
    }
    for (const ix of store.indexes) {
      if (os.indexNames.contains(ix.name!)) continue;
      os.createIndex(ix.name!, ix.keyPath, { multiEntry: ix.multi });
      rewrite = existed;
    }
    if (!rewrite) continue;
    const cursor = os.openCursor();
    cursor.onsuccess = () => {
      const current = cursor.result;
      if (!current) return;
      current.update(toStored(store, fromStored(current.value as StoredRecord)));
      current.continue();
    };
  }

  const def = views.get('def');
  def.onsuccess = () => {
    const built: Record<string, string> = (def.result as { d?: Record<string, string> } | undefined)?.d ?? {};
    const now: Record<string, string> = {};
    for (const store of stores) {
      const stale = store.views.filter(({ key, view }) => built[key] !== (now[key] = JSON.stringify(view)));
      if (stale.length) rebuildViews(tx, store, stale);
    }
    views.put({ k: 'def', d: now });
  };
}

/** Recomputes the groups of `stale` views from every stored row of the store (all tenants). */
function rebuildViews(tx: IDBTransaction, store: StoreLayout, stale: StoreLayout['views']): void {
  const views = tx.objectStore(VIEWS);
  for (const { key } of stale) views.delete(IDBKeyRange.bound([key], [key, []]));
  const groups = new ViewChanges();
  const cursor = tx.objectStore(store.entity).openCursor();
  cursor.onsuccess = () => {
    const current = cursor.result;
    if (!current) return groups.groups.forEach((group) => views.put(group));
    groups.add(stale, fromStored(current.value as StoredRecord));
    current.continue();
  };
}
