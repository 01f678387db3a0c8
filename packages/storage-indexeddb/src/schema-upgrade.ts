import { META_STORE, toStored, type DatabaseLayout, type StoredRecord } from './store-layout.js';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Migrates the database to `layout` inside the `versionchange` transaction: creates missing stores and
 * indexes, drops indexes the schema no longer declares (stores are kept: migrations are forward-only
 * and never delete data), and rewrites the records of a store whose derived keys changed, so that
 * every row is in every index. It must run synchronously in `upgradeneeded`; the rewrite continues
 * through request callbacks, which keep the upgrade transaction alive until it is done.
 */
export function upgradeDatabase(db: IDBDatabase, tx: IDBTransaction, layout: DatabaseLayout): void {
  const meta = db.objectStoreNames.contains(META_STORE) ? tx.objectStore(META_STORE) : db.createObjectStore(META_STORE);
  for (const store of layout.stores.values()) {
    const existed = db.objectStoreNames.contains(store.entity);
    const os = existed ? tx.objectStore(store.entity) : db.createObjectStore(store.entity, { keyPath: ['t', 'i'] });
    for (const name of Array.from(os.indexNames)) {
      const want = store.indexes.find((ix) => ix.name === name);
      const have = os.index(name);
      if (!want || !same(have.keyPath, want.keyPath) || have.multiEntry !== want.multi) os.deleteIndex(name);
    }
    for (const ix of store.indexes) {
      if (!os.indexNames.contains(ix.name!)) os.createIndex(ix.name!, ix.keyPath, { multiEntry: ix.multi });
    }
    const check = meta.get(store.entity);
    check.onsuccess = () => {
      if (check.result === store.signature) return;
      meta.put(store.signature, store.entity);
      if (!existed) return;
      const cursor = os.openCursor();
      cursor.onsuccess = () => {
        const current = cursor.result;
        if (!current) return;
        current.update(toStored(store, (current.value as StoredRecord).r));
        current.continue();
      };
    };
  }
}
