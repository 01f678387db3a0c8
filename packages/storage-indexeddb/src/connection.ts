import { openDB, unwrap } from 'idb';
import { request } from './idb-request.js';
import { upgradeDatabase } from './schema-upgrade.js';
import { engineError, storageError } from './storage-errors.js';
import { RUNTIME_INDEX, withRuntimeIndexes } from '@crmkit/core/storage';
import { VIEWS, type DatabaseLayout } from './store-layout.js';

/** An open connection and the part of the layout the database really has. */
export interface Connection {
  readonly db: IDBDatabase;
  readonly layout: DatabaseLayout;
}

/**
 * The layout restricted to what the database has, plus the runtime indexes it has (made by any tab,
 * `$` + field). Stores and indexes all exist unless a schema changed without a version bump; queries
 * then plan around what is missing (slower, still correct) until the next version's upgrade creates it.
 * A view is used only when the stored definitions say it was built as declared: otherwise its groups
 * would not count the rows written before it existed.
 */
async function effectiveLayout(db: IDBDatabase, layout: DatabaseLayout): Promise<DatabaseLayout> {
  const storeNames = layout.storeNames.filter((name) => db.objectStoreNames.contains(name));
  const tx = db.transaction(storeNames);
  const missing = layout.storeNames.filter((name) => !storeNames.includes(name));
  const built = storeNames.includes(VIEWS) ? await request<{ d?: Record<string, string> } | undefined>(tx.objectStore(VIEWS).get('def')) : undefined;
  const stores = new Map(
    storeNames
      .filter((name) => name !== VIEWS)
      .map((name) => {
        const store = layout.stores.get(name)!;
        const have = Array.from(tx.objectStore(name).indexNames);
        const indexes = store.indexes.filter((ix) => have.includes(ix.name!) || !missing.push(`${name}.${ix.name}`));
        const runtime = have.filter((ix) => ix.startsWith(RUNTIME_INDEX)).map((ix) => ix.slice(1));
        const views = store.views.filter((v) => built?.d?.[v.key] === JSON.stringify(v.view));
        return [name, withRuntimeIndexes({ ...store, indexes, views }, runtime)];
      }),
  );
  if (missing.length) console.warn(`crmkit: IndexedDB "${db.name}" lacks ${missing.join(', ')}: the storage schema changed without a version bump`);
  return { ...layout, storeNames, stores };
}

export interface ConnectOptions {
  readonly name: string;
  readonly layout: DatabaseLayout;
  /** Runtime indexes the database must have: entity → field paths (`ensureIndexes`). */
  readonly runtime: ReadonlyMap<string, ReadonlySet<string>>;
  /** How long to wait for other connections before an upgrade can start. */
  readonly timeoutMs: number;
  /** Called when the connection closes itself (`versionchange`) or is closed by the browser. */
  onLost(db: IDBDatabase): void;
}

/**
 * Opens the database at `version` (the current one when undefined), upgrading it with the layout.
 * Must never hang: while the request waits for other connections (`blocked`: another tab keeps an
 * older version open and does not close it) a timer runs, and when it fires the promise rejects with a
 * retryable `STORAGE` error. The request itself cannot be cancelled, so if it gets through later its
 * upgrade is aborted (nothing changes) or its connection closed. Once the upgrade starts the wait is
 * over and the migration runs to its end. The connection closes itself when another one needs a
 * version change (`blocking`), so that other tabs can upgrade.
 */
function openAt(options: ConnectOptions, version?: number): Promise<IDBDatabase> {
  const { name, layout } = options;
  let settled = false;
  let blocked = false;
  let failure: unknown;
  let db: IDBDatabase | undefined;
  let timer: ReturnType<typeof setTimeout>;
  const lost = () => options.onLost(db!);
  return new Promise<IDBDatabase>((resolve, reject) => {
    timer = setTimeout(() => {
      settled = true;
      reject(storageError(`IndexedDB "${name}" did not open in time${blocked ? ': another tab keeps an older version open' : ''}`, 'open', true));
    }, options.timeoutMs);
    // idb handles the request's events; its promises are kept to opening, the hot paths use raw requests.
    openDB(name, version, {
      upgrade(wrapped, _old, _new, tx) {
        tx.done.catch(() => undefined); // an aborted upgrade rejects the open request: reported there
        if (settled) return tx.abort();
        clearTimeout(timer);
        try {
          upgradeDatabase(unwrap(wrapped), unwrap(tx), layout, options.runtime);
        } catch (error) {
          failure = error;
          tx.abort();
        }
      },
      blocked: () => void (blocked = true),
      blocking() {
        db!.close();
        lost();
      },
      terminated: lost,
    }).then(
      (wrapped) => {
        db = unwrap(wrapped);
        if (settled) return db.close();
        settled = true;
        clearTimeout(timer);
        resolve(db);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!settled) reject(failure ?? error);
        settled = true;
      },
    );
  });
}

async function ready(db: IDBDatabase, layout: DatabaseLayout): Promise<Connection> {
  try {
    return { db, layout: await effectiveLayout(db, layout) };
  } catch (error) {
    db.close();
    throw error;
  }
}

const isVersionError = (error: unknown) => (error as Error | null)?.name === 'VersionError';

/**
 * Opens (creating or upgrading) the database. The version is the layout's, plus one for every upgrade
 * that only added runtime indexes since: a database at such a version opens as it is (after a
 * `VersionError`, at its current version). A database at the version of a newer layout is refused
 * (`STORAGE`, not retryable); runtime indexes it lacks are added by an upgrade to the next version,
 * retried when another tab got there first.
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const base = options.layout.version;
  if (typeof indexedDB === 'undefined') throw storageError('IndexedDB is not available here', 'open', false);
  try {
    for (let attempt = 0; ; attempt++) {
      const db = await openAt(options, base).catch((error: unknown) => (isVersionError(error) ? openAt(options) : Promise.reject(error)));
      if (db.version >= base + 1000 || db.version < base) {
        db.close();
        if (db.version < base && attempt < 3) continue; // deleted meanwhile: create it again
        throw storageError(`IndexedDB "${options.name}" has version ${db.version}, written by a newer version of the app: reload`, 'open', false);
      }
      const has = (entity: string, field: string) => db.objectStoreNames.contains(entity) && db.transaction(entity).objectStore(entity).indexNames.contains(RUNTIME_INDEX + field);
      const lacking = [...options.runtime].some(([entity, fields]) => [...fields].some((field) => !has(entity, field)));
      if (!lacking) return await ready(db, options.layout);
      db.close();
      try {
        return await ready(await openAt(options, db.version + 1), options.layout);
      } catch (error) {
        if (!isVersionError(error) || attempt >= 3) throw error;
      }
    }
  } catch (error) {
    throw engineError(error, 'open');
  }
}
