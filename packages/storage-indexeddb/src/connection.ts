import { upgradeDatabase } from './schema-upgrade.js';
import { engineError, storageError } from './storage-errors.js';
import type { DatabaseLayout } from './store-layout.js';

/** An open connection and the part of the layout the database really has. */
export interface Connection {
  readonly db: IDBDatabase;
  readonly layout: DatabaseLayout;
}

/**
 * The layout restricted to the stores and indexes the database has. They all exist unless a schema
 * changed without a version bump; queries then plan around what is missing (slower, still correct)
 * until the next version's upgrade creates it.
 */
function effectiveLayout(db: IDBDatabase, layout: DatabaseLayout): DatabaseLayout {
  const storeNames = layout.storeNames.filter((name) => db.objectStoreNames.contains(name));
  const tx = storeNames.length ? db.transaction(storeNames) : undefined;
  const missing = layout.storeNames.filter((name) => !tx?.objectStoreNames.contains(name));
  const stores = new Map(
    storeNames.map((name) => {
      const store = layout.stores.get(name)!;
      const have = tx!.objectStore(name).indexNames;
      return [name, { ...store, indexes: store.indexes.filter((ix) => have.contains(ix.name!) || !missing.push(`${name}.${ix.name}`)) }];
    }),
  );
  if (missing.length) console.warn(`crmkit: IndexedDB "${db.name}" lacks ${missing.join(', ')}: the storage schema changed without a version bump`);
  return { ...layout, storeNames, stores };
}

export interface ConnectOptions {
  readonly factory: IDBFactory;
  readonly name: string;
  readonly layout: DatabaseLayout;
  /** How long to wait for other connections before an upgrade can start. */
  readonly timeoutMs: number;
  /** Called when the connection closes itself (`versionchange`) or is closed by the browser. */
  onLost(db: IDBDatabase): void;
}

/**
 * Opens (creating or upgrading) the database. Must never hang: while the request waits for other
 * connections (`blocked`: another tab keeps an older version open and does not close it) a timer
 * runs, and when it fires the promise rejects with a retryable `STORAGE` error. The request itself
 * cannot be cancelled, so if it gets through later its upgrade is aborted (nothing changes) or its
 * connection closed. Once `upgradeneeded` fires the wait is over and the migration runs to its end.
 * The connection closes itself on `versionchange` so that other tabs can upgrade.
 */
export function connect(options: ConnectOptions): Promise<Connection> {
  const { factory, name, layout } = options;
  return new Promise((resolve, reject) => {
    let settled = false;
    let blocked = false;
    const fail = (error: unknown) => {
      clearTimeout(timer);
      if (!settled) reject(error);
      settled = true;
    };
    const request = factory.open(name, layout.version);
    const timer = setTimeout(
      () => fail(storageError(`IndexedDB "${name}" did not open in time${blocked ? ': another tab keeps an older version open' : ''}`, 'open', true)),
      options.timeoutMs,
    );
    request.onblocked = () => {
      blocked = true;
    };
    request.onupgradeneeded = () => {
      const tx = request.transaction!;
      if (settled) return tx.abort();
      clearTimeout(timer);
      try {
        upgradeDatabase(request.result, tx, layout);
      } catch (error) {
        fail(engineError(error, 'upgrade'));
        tx.abort();
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      if (settled) return db.close();
      settled = true;
      clearTimeout(timer);
      db.onversionchange = () => {
        db.close();
        options.onLost(db);
      };
      db.onclose = () => options.onLost(db);
      try {
        resolve({ db, layout: effectiveLayout(db, layout) });
      } catch (error) {
        db.close();
        reject(engineError(error, 'open'));
      }
    };
    request.onerror = (event) => {
      event.preventDefault();
      fail(engineError(request.error, 'open'));
    };
  });
}
