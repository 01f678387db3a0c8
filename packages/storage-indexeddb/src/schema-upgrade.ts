import { fromStored, SEQUENCE_STORE, toStored, type DatabaseLayout, type StoredRecord } from './store-layout.js';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Migrates the database to `layout` inside the `versionchange` transaction: creates missing stores and
 * indexes, drops indexes the schema no longer declares (stores are kept: migrations are forward-only
 * and never delete data), and rewrites the records of a store that got a new index, so that their
 * newly indexed fields get key encodings and every row is in every index (placeholders of fields no
 * longer indexed are harmless: reads remove every top-level placeholder). It must run synchronously in
 * `upgradeneeded`; the rewrite continues through request callbacks, which keep the upgrade
 * transaction alive until it is done.
 */
export function upgradeDatabase(db: IDBDatabase, tx: IDBTransaction, layout: DatabaseLayout): void {
  if (!db.objectStoreNames.contains(SEQUENCE_STORE)) db.createObjectStore(SEQUENCE_STORE, { keyPath: ['tenantId', 'name'] });
  for (const store of layout.stores.values()) {
    const existed = db.objectStoreNames.contains(store.entity);
    const os = existed ? tx.objectStore(store.entity) : db.createObjectStore(store.entity, { keyPath: store.primary.keyPath });
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
}
