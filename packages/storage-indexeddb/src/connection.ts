import { wrap, type IDBPDatabase } from 'idb';
import { upgradeDatabase } from './schema-upgrade.js';
import { engineError, storageError } from './storage-errors.js';
import type { DatabaseLayout } from './store-layout.js';

export interface ConnectOptions {
  readonly factory: IDBFactory;
  readonly name: string;
  readonly layout: DatabaseLayout;
  /** How long to wait for other connections before an upgrade can start. */
  readonly timeoutMs: number;
  /** Called when the connection closes itself (`versionchange`) or is closed by the browser. */
  onLost(db: IDBPDatabase): void;
}

/**
 * Opens (creating or upgrading) the database. Must never hang: while the request waits for other
 * connections (`blocked`: another tab keeps an older version open and does not close it) a timer
 * runs, and when it fires the promise rejects with a retryable `STORAGE` error. The request itself
 * cannot be cancelled, so if it gets through later its upgrade is aborted (nothing changes) or its
 * connection closed. Once `upgradeneeded` fires the wait is over and the migration runs to its end.
 * The connection closes itself on `versionchange` so that other tabs can upgrade.
 */
export function connect(options: ConnectOptions): Promise<IDBPDatabase> {
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
    const timer = setTimeout(() => {
      const why = blocked ? 'another tab or connection keeps an older version open' : 'it did not open in time';
      fail(storageError(`Cannot open IndexedDB database "${name}": ${why}`, 'open', true));
    }, options.timeoutMs);
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
      const wrapped = wrap(db);
      db.onversionchange = () => {
        db.close();
        options.onLost(wrapped);
      };
      db.onclose = () => options.onLost(wrapped);
      resolve(wrapped);
    };
    request.onerror = (event) => {
      event.preventDefault();
      fail(engineError(request.error, 'open'));
    };
  });
}
