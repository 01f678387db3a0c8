/**
 * Profiling aid for the import (not a benchmark), run by bench/profile-import.ts: `crm.imports.deals(n)`
 * split into the transaction's JavaScript (until its `fn` resolves: validation, services, staging,
 * totals) and the rest (the adapter's write burst and IndexedDB's commit), and, in a rotating order
 * with it, raw readwrite transactions putting the records the import stored — as the services return
 * them (absent fields left out of the indexes) and in the adapter's stored form (every row in every index).
 */
import { createCrm, type CrmWith } from '@crmkit/core';
import { imports, type ImportsFeature } from '@crmkit/core/imports';
import { CRM_STORAGE_SCHEMA, type StorageAdapter } from '@crmkit/core/storage';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';

const STAGES = ['lead-in', 'contacted', 'qualified', 'demo', 'proposal', 'negotiation'];
const TENANT = 'bench';

const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

function openDb(name: string, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  const r = indexedDB.open(name, upgrade ? 1 : undefined);
  if (upgrade) r.onupgradeneeded = () => upgrade(r.result);
  return request(r);
}

/** A raw database with the crmkit stores and the same indexes, on the rows' own fields (as bench-page.ts). */
const openRaw = (name: string) =>
  openDb(name, (db) => {
    for (const entity of CRM_STORAGE_SCHEMA.entities) {
      const os = db.createObjectStore(entity.name, { keyPath: ['tenantId', 'id'] });
      for (const index of entity.indexes) {
        const list = index.fields.length === 1 && entity.fields[index.fields[0]!] === 'string[]';
        os.createIndex(index.name, list ? index.fields[0]! : ['tenantId', ...index.fields], { multiEntry: list });
      }
    }
    db.createObjectStore('$views', { keyPath: 'k' });
  });

/** A storage whose transactions record when their `fn` resolved. */
function split(inner: StorageAdapter, marks: number[]): StorageAdapter {
  return {
    ...inner,
    open: inner.open.bind(inner),
    onChange: inner.onChange.bind(inner),
    close: inner.close.bind(inner),
    ensureIndexes: inner.ensureIndexes.bind(inner),
    transaction: (mode, fn) =>
      inner.transaction(mode, async (tx) => {
        const result = await fn(tx);
        marks.push(performance.now());
        return result;
      }),
  };
}

let kept: { stored: Map<string, unknown[]>; rows: Map<string, unknown[]> } | undefined;

/** One import of `n` deals into a new database: total ms and the JavaScript part (until the import's `fn` resolved). With `keep`, its records are what `raw` puts. */
/** Counts the read requests made through the IndexedDB prototypes while `run` runs (each is a round trip to the backend). */
async function countRequests<T>(run: () => Promise<T>): Promise<[T, Record<string, number>]> {
  const counts: Record<string, number> = {};
  const undo: (() => void)[] = [];
  for (const [label, proto] of [['store', IDBObjectStore.prototype], ['index', IDBIndex.prototype]] as const) {
    for (const method of ['get', 'getAll', 'getAllKeys', 'count', 'openCursor'] as const) {
      const original = proto[method as keyof typeof proto] as (...args: unknown[]) => IDBRequest;
      (proto as unknown as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
        counts[`${label}.${method}`] = (counts[`${label}.${method}`] ?? 0) + 1;
        return original.apply(this, args);
      };
      undo.push(() => ((proto as unknown as Record<string, unknown>)[method] = original));
    }
  }
  try {
    return [await run(), counts];
  } finally {
    undo.forEach((f) => f());
  }
}

export async function crmkit(n: number, seed: number, keep = false): Promise<{ total: number; js: number; requests: Record<string, number> }> {
  const name = `pi-crm-${seed}-${Date.now()}`;
  const marks: number[] = [];
  const storage = createIndexedDbStorage({ name });
  const crm: CrmWith<[ImportsFeature]> = await createCrm({ storage: split(storage, marks), tenantId: TENANT, actor: { userId: 'u1' }, random: { seed }, features: [imports()] });
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [...STAGES.map((key) => ({ key, name: key })), { key: 'won', name: 'Won', kind: 'won' as const }] });
  const data = Array.from({ length: n }, (_, i) => ({
    title: `Deal ${i}`,
    pipelineId: pipeline.id,
    stageKey: STAGES[i % STAGES.length]!,
    value: { amount: 1000 + ((i * 7919) % 100_000), currency: i % 5 ? 'EUR' : 'USD' },
    ownerId: `u${i % 7}`,
    tags: i % 3 ? ['b2b'] : [],
  }));
  marks.length = 0;
  const started = performance.now();
  const [, requests] = await countRequests(() => crm.imports.deals(data));
  const total = performance.now() - started;
  const js = marks[marks.length - 1]! - started;
  await crm.close();
  if (keep) {
    // The records as stored, and as the services return them (every record of the tenant but the pipeline's).
    const db = await openDb(name);
    const stored = new Map<string, unknown[]>();
    for (const store of Array.from(db.objectStoreNames)) {
      if (store === 'pipeline' || store === 'crmkit_sequences') continue;
      const list = await request(db.transaction(store).objectStore(store).getAll());
      if (list.length) stored.set(store, list);
    }
    db.close();
    const reader = createIndexedDbStorage({ name });
    await reader.open(CRM_STORAGE_SCHEMA);
    const rows = new Map<string, unknown[]>();
    await reader.transaction('r', async (tx) => {
      for (const store of stored.keys()) rows.set(store, store === '$views' ? stored.get(store)! : (await tx.query(store, TENANT, {})).rows);
    });
    await reader.close();
    kept = { stored, rows };
  }
  await request(indexedDB.deleteDatabase(name));
  return { total, js, requests };
}

/**
 * A raw readwrite transaction putting the kept records into a new database: as the services return
 * them, in the adapter's stored form, or stored but without the placeholders of `lean` (top-level fields).
 */
export async function raw(form: 'rows' | 'stored' | 'lean', lean: readonly string[] = []): Promise<number> {
  const name = `pi-raw-${Date.now()}`;
  const db = await openRaw(name);
  const drop = (r: unknown) => {
    const copy = { ...(r as Record<string, unknown>) };
    for (const f of lean) if (copy[f] === -Infinity) delete copy[f];
    return copy;
  };
  const records = form === 'rows' ? kept!.rows : form === 'stored' ? kept!.stored : new Map([...kept!.stored].map(([store, list]) => [store, list.map(drop)]));
  const started = performance.now();
  const tx = db.transaction([...records.keys()], 'readwrite');
  for (const [store, list] of records) {
    const os = tx.objectStore(store);
    for (const record of list) os.put(record);
  }
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
  });
  const ms = performance.now() - started;
  db.close();
  await request(indexedDB.deleteDatabase(name));
  return ms;
}

/** Index entries the kept records make in each store: as the services return them, and stored. */
export function indexEntries(): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  const valid = (v: unknown): boolean => typeof v === 'number' ? !Number.isNaN(v) : typeof v === 'string' || v instanceof Date || (Array.isArray(v) && v.every(valid));
  const at = (r: unknown, path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r);
  for (const entity of CRM_STORAGE_SCHEMA.entities) {
    const count = (list: unknown[] | undefined) =>
      (list ?? []).reduce<number>((n, r) => {
        for (const index of entity.indexes) {
          const list = index.fields.length === 1 && entity.fields[index.fields[0]!] === 'string[]';
          if (list) n += ((at(r, index.fields[0]!) as unknown[] | undefined) ?? []).length;
          else if (index.fields.every((f) => valid(at(r, f)))) n++;
        }
        return n + 1;
      }, 0);
    if (kept!.rows.has(entity.name)) out[entity.name] = [count(kept!.rows.get(entity.name)), count(kept!.stored.get(entity.name))];
  }
  return out;
}

declare global {
  interface Window {
    crmkitImport: { crmkit: typeof crmkit; raw: typeof raw; indexEntries: typeof indexEntries };
  }
}
window.crmkitImport = { crmkit, raw, indexEntries };
