/**
 * The benchmark, run inside Chromium: crmkit on IndexedDB against raw IndexedDB doing the same work.
 *
 * - import: `crm.imports.deals(n)` against one readwrite transaction putting the same rows (every row
 *   the import stored: deals, stage visits, events, board totals) into stores with the same indexes
 *   (raw key paths); and, for reference, against putting the deals alone.
 * - board: `crm.deals.board(pipeline, { limitPerStage: 50 })` over 6 stages (cards, counts, totals):
 *   its p95 against an absolute budget (one frame at 10k deals), and its median against raw IndexedDB
 *   reading the same cards and computing the totals from every deal of each stage (what a board without
 *   maintained totals must do).
 * - a big pipeline (100k deals, written through the adapter's storage transactions, not the services):
 *   the board's p95 there.
 * - idb or raw requests: the six card pages through idb's promise wrappers against raw requests, the
 *   measurement behind keeping raw requests on the adapter's read and write paths.
 */
import { openDB, unwrap } from 'idb';
import { createCrm, type CrmWith } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, type Row } from '@crmkit/core/storage';
import { imports, type ImportsFeature } from '@crmkit/core/imports';

type Crm = CrmWith<[ImportsFeature]>;
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';

export interface BenchEntry {
  readonly name: string;
  readonly crmkit_ms: number;
  readonly raw_ms?: number;
  readonly ratio?: number;
  /** Budget of `ratio` (ratio entries) or of `crmkit_ms` (absolute entries: p95 in ms). */
  readonly budget?: number;
  readonly kind: 'ratio' | 'ms' | 'reference';
  readonly note: string;
}

const STAGES = ['lead-in', 'contacted', 'qualified', 'demo', 'proposal', 'negotiation'];
const TENANT = 'bench';

const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
const finished = (tx: IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
  });
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const median = (values: number[]) => percentile(values, 50);
const round = (v: number) => Math.round(v * 100) / 100;
/** Progress for the runner (it prints `[bench]` lines to stderr with the elapsed time). */
const progress = (message: string) => console.info(`[bench] ${message}`);

function openDb(name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  const r = indexedDB.open(name, version);
  if (upgrade) r.onupgradeneeded = () => upgrade(r.result);
  return request(r);
}

/** A raw database with the crmkit stores and the same indexes, on the rows' own fields. */
function openRaw(name: string): Promise<IDBDatabase> {
  return openDb(name, 1, (db) => {
    for (const entity of CRM_STORAGE_SCHEMA.entities) {
      const os = db.createObjectStore(entity.name, { keyPath: ['tenantId', 'id'] });
      for (const index of entity.indexes) {
        const list = index.fields.length === 1 && entity.fields[index.fields[0]!] === 'string[]';
        os.createIndex(index.name, list ? index.fields[0]! : ['tenantId', ...index.fields], { multiEntry: list });
      }
    }
    db.createObjectStore('$views', { keyPath: 'k' });
  });
}

async function dropDb(name: string): Promise<void> {
  await request(indexedDB.deleteDatabase(name)).catch(() => undefined);
}

/**
 * Every row of every entity as the adapter reads it back (the rows themselves, not their stored form),
 * and the board totals' records (outside any measurement).
 */
async function dumpStores(name: string): Promise<Map<string, unknown[]>> {
  const storage = createIndexedDbStorage({ name });
  await storage.open(CRM_STORAGE_SCHEMA);
  const out = new Map<string, unknown[]>();
  await storage.transaction('r', async (tx) => {
    for (const entity of CRM_STORAGE_SCHEMA.entities) out.set(entity.name, (await tx.query(entity.name, TENANT, {})).rows);
  });
  await storage.close();
  const db = await openDb(name);
  out.set('$views', await request(db.transaction('$views').objectStore('$views').getAll()));
  db.close();
  return out;
}

/** The records of the stores as IndexedDB holds them (the stored form: placeholders of absent indexed fields included). */
async function storedRecords(name: string): Promise<Map<string, unknown[]>> {
  const db = await openDb(name);
  const out = new Map<string, unknown[]>();
  for (const store of Array.from(db.objectStoreNames)) out.set(store, await request(db.transaction(store).objectStore(store).getAll()));
  db.close();
  return out;
}

async function rawPut(name: string, rows: Map<string, unknown[]>): Promise<number> {
  const db = await openRaw(name);
  const started = performance.now();
  const tx = db.transaction([...rows.keys()], 'readwrite');
  for (const [store, list] of rows) {
    const os = tx.objectStore(store);
    for (const row of list) os.put(row);
  }
  await finished(tx);
  const ms = performance.now() - started;
  db.close();
  return ms;
}

const stageList = () => [...STAGES.map((key) => ({ key, name: key })), { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];

async function newCrm(name: string, seed: number): Promise<{ crm: Crm; pipelineId: string }> {
  const crm = await createCrm({ storage: createIndexedDbStorage({ name }), tenantId: TENANT, actor: { userId: 'u1' }, random: { seed }, features: [imports()] });
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: stageList() });
  return { crm, pipelineId: pipeline.id };
}

function inputs(n: number, pipelineId: string) {
  return Array.from({ length: n }, (_, i) => ({
    title: `Deal ${i}`,
    pipelineId,
    stageKey: STAGES[i % STAGES.length]!,
    value: { amount: 1000 + ((i * 7919) % 100_000), currency: i % 5 ? 'EUR' : 'USD' },
    ownerId: `u${i % 7}`,
    tags: i % 3 ? ['b2b'] : [],
  }));
}

interface ImportRound {
  crmkit: number;
  rawAll: number;
  rawDeals: number;
  rawStored: number;
  rows: number;
  name: string;
  raw: string;
  pipelineId: string;
  crm: Crm;
}

async function importRound(n: number, round: number): Promise<ImportRound> {
  const name = `bench-crm-${round}-${Date.now()}`;
  const raw = `bench-raw-${round}-${Date.now()}`;
  const { crm, pipelineId } = await newCrm(name, round + 1);
  const before = await dumpStores(name);
  const data = inputs(n, pipelineId);
  const started = performance.now();
  await crm.imports.deals(data);
  const crmkit = performance.now() - started;
  progress(`round ${round}: crmkit imported ${n} deals in ${crmkit.toFixed(0)} ms`);
  const after = await dumpStores(name);
  const imported = new Map<string, unknown[]>();
  for (const [store, records] of after) {
    const old = new Set((before.get(store) ?? []).map((r) => JSON.stringify((r as { k?: unknown; id?: string }).k ?? (r as { id?: string }).id)));
    const fresh = records.filter((r) => !old.has(JSON.stringify((r as { k?: unknown; id?: string }).k ?? (r as { id?: string }).id)));
    if (fresh.length) imported.set(store, fresh);
  }
  const rawAll = await rawPut(raw, imported);
  const dealsOnly = `${raw}-deals`;
  const rawDeals = await rawPut(dealsOnly, new Map([['deal', imported.get('deal')!]]));
  await dropDb(dealsOnly);
  // The same rows as crmkit stores them: absent indexed fields hold a placeholder, so every row is in
  // every compound index (what lets a sort on a field some rows lack page through them).
  const stored = await storedRecords(name);
  const keyOf = (r: unknown) => JSON.stringify((r as { k?: unknown }).k ?? [(r as { tenantId?: string }).tenantId, (r as { id?: string; name?: string }).id ?? (r as { name?: string }).name]);
  const storedImported = new Map<string, unknown[]>();
  for (const [store, records] of stored) {
    if (store === 'crmkit_sequences') continue;
    const fresh = new Set((imported.get(store) ?? []).map((r) => keyOf(r)));
    const list = records.filter((r) => fresh.has(keyOf(r)));
    if (list.length) storedImported.set(store, list);
  }
  const rawStoredName = `${raw}-stored`;
  const rawStored = await rawPut(rawStoredName, storedImported);
  await dropDb(rawStoredName);
  progress(`round ${round}: raw put ${rawAll.toFixed(0)} ms (deals only ${rawDeals.toFixed(0)} ms, stored form ${rawStored.toFixed(0)} ms)`);
  const rows = [...imported.values()].reduce((sum, list) => sum + list.length, 0);
  return { crmkit, rawAll, rawDeals, rawStored, rows, name, raw, pipelineId, crm };
}

/** The board the raw way: each stage's cards, and counts and totals from every deal of the stage. */
async function rawBoard(raw: IDBDatabase, pipelineId: string, pageOnly: boolean): Promise<number> {
  const started = performance.now();
  const tx = raw.transaction('deal', 'readonly');
  const index = tx.objectStore('deal').index('board');
  const columns = await Promise.all(
    STAGES.map(async (stage) => {
      const range = IDBKeyRange.bound([TENANT, pipelineId, stage], [TENANT, pipelineId, stage, []]);
      const rows = (await request(pageOnly ? index.getAll(range, 50) : index.getAll(range))) as Row[];
      const totals = new Map<string, { amount: number; weighted: number }>();
      for (const row of rows) {
        const value = row.value as { amount: number; currency: string } | undefined;
        if (!value) continue;
        const t = totals.get(value.currency) ?? { amount: 0, weighted: 0 };
        t.amount += value.amount;
        t.weighted += (row.weightedValue as { amount: number } | undefined)?.amount ?? 0;
        totals.set(value.currency, t);
      }
      return { deals: rows.slice(0, 50), count: rows.length, totals };
    }),
  );
  if (columns.length !== STAGES.length) throw new Error('raw board failed');
  return performance.now() - started;
}

/**
 * The board's own reads, the raw way and nothing else: in one transaction over every store (as the
 * adapter's), the pipeline, then each stage's first 51 cards and the `$views` records. What the
 * engine alone costs for the board; the rest of `crm.deals.board` is crmkit's.
 */
async function rawBoardReads(name: string, pipelineId: string): Promise<number> {
  const db = await openDb(name);
  const started = performance.now();
  const tx = db.transaction(Array.from(db.objectStoreNames));
  await request(tx.objectStore('pipeline').get([TENANT, pipelineId]));
  const index = tx.objectStore('deal').index('board');
  await Promise.all([...STAGES.map((s) => request(index.getAll(IDBKeyRange.bound([TENANT, pipelineId, s], [TENANT, pipelineId, s, []]), 51))), request(tx.objectStore('$views').getAll())]);
  const ms = performance.now() - started;
  db.close();
  return ms;
}

/** The six card pages through idb's wrapped (promise) requests, or raw ones: the cost of the wrapper on a hot read. */
async function pages(name: string, pipelineId: string, wrapped: boolean): Promise<number> {
  const db = await openDB(name);
  const raw = unwrap(db);
  const started = performance.now();
  const ranges = STAGES.map((stage) => IDBKeyRange.bound([TENANT, pipelineId, stage], [TENANT, pipelineId, stage, []]));
  if (wrapped) {
    const index = db.transaction('deal').store.index('board');
    await Promise.all(ranges.map((range) => index.getAll(range, 51)));
  } else {
    const index = raw.transaction('deal').objectStore('deal').index('board');
    await Promise.all(ranges.map((range) => request(index.getAll(range, 51))));
  }
  const ms = performance.now() - started;
  db.close();
  return ms;
}

/** Board reads: `reads` timed calls after a warm-up. */
async function boardTimes(crm: Crm, pipelineId: string, reads: number): Promise<number[]> {
  for (let i = 0; i < 5; i++) await crm.deals.board(pipelineId, { limitPerStage: 50 });
  const times: number[] = [];
  for (let i = 0; i < reads; i++) {
    const started = performance.now();
    const b = await crm.deals.board(pipelineId, { limitPerStage: 50 });
    times.push(performance.now() - started);
    if (b.columns.length !== STAGES.length || b.columns.some((c) => c.deals.length !== 50)) throw new Error('unexpected board');
  }
  return times;
}

/** A generated deal row, as the services store it (for filling a big pipeline quickly). */
function dealRow(i: number, pipelineId: string): Row {
  const stageKey = STAGES[i % STAGES.length]!;
  const amount = 1000 + ((i * 7919) % 100_000);
  const currency = i % 5 ? 'EUR' : 'USD';
  const probability = 10 + STAGES.indexOf(stageKey) * 15;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
  return {
    id: `deal_${String(i).padStart(8, '0')}`,
    tenantId: TENANT,
    version: 1,
    createdAt: at,
    updatedAt: at,
    title: `Deal ${i}`,
    pipelineId,
    stageKey,
    status: 'open',
    ownerId: `u${i % 7}`,
    value: { amount, currency },
    weightedValue: { amount: Math.round((amount * probability) / 100), currency },
    lineItems: [],
    probability,
    probabilityManual: false,
    stageEnteredAt: at,
    lastActivityAt: at,
    postponeCount: 0,
    stagePostponeCount: 0,
    tags: i % 3 ? ['b2b'] : [],
    custom: {},
  } as Row;
}

/** The board's p95 on a pipeline of `n` deals written through the adapter (its write path keeps the totals). */
async function bigBoard(n: number, reads: number): Promise<{ times: number[]; raw: number[] }> {
  const name = `bench-big-${Date.now()}`;
  const { crm, pipelineId } = await newCrm(name, 42);
  const storage = createIndexedDbStorage({ name });
  await storage.open(CRM_STORAGE_SCHEMA);
  for (let i = 0; i < n; i += 5000) {
    const rows = Array.from({ length: Math.min(5000, n - i) }, (_, j) => dealRow(i + j, pipelineId));
    await storage.transaction('rw', (tx) => tx.write('deal', TENANT, rows.map((row) => ({ type: 'insert' as const, row }))));
    if ((i + 5000) % 25_000 === 0) progress(`big pipeline: ${i + 5000} deals written`);
  }
  await storage.close();
  const times = await boardTimes(crm, pipelineId, reads);
  const raw: number[] = [];
  for (let i = 0; i < Math.min(reads, 30); i++) raw.push(await rawBoardReads(name, pipelineId));
  await crm.close();
  await dropDb(name);
  return { times, raw };
}

export interface BenchOptions {
  readonly deals: number;
  readonly rounds: number;
  readonly reads: number;
  /** Deals of the big pipeline (0: skip). */
  readonly big: number;
}

/** Runs the benchmark: `rounds` imports of `deals` (median), board reads, and the big pipeline. */
export async function runBench(options: BenchOptions): Promise<BenchEntry[]> {
  const { deals: n, rounds, reads, big } = options;
  // Warm-up: JIT and the IndexedDB backend, not measured.
  const warm = await importRound(Math.min(500, n), 99);
  await warm.crm.close();
  await dropDb(warm.name);
  await dropDb(warm.raw);

  const results: ImportRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const r = await importRound(n, round);
    results.push(r);
    if (round < rounds - 1) {
      await r.crm.close();
      await dropDb(r.name);
      await dropDb(r.raw);
    }
  }
  const last = results[results.length - 1]!;
  const raw = await openDb(last.raw);
  const board = await boardTimes(last.crm, last.pipelineId, reads);
  progress(`board: ${reads} reads done`);
  const rawFull: number[] = [];
  const wrapped: number[] = [];
  const unwrapped: number[] = [];
  const rawReads: number[] = [];
  for (let i = 0; i < Math.min(reads, 30); i++) {
    rawReads.push(await rawBoardReads(last.name, last.pipelineId));
    rawFull.push(await rawBoard(raw, last.pipelineId, false));
    wrapped.push(await pages(last.name, last.pipelineId, true));
    unwrapped.push(await pages(last.name, last.pipelineId, false));
  }
  raw.close();
  await last.crm.close();
  await dropDb(last.name);
  await dropDb(last.raw);

  const ratioEntry = (name: string, crmkit: number, rawMs: number, note: string, budget?: number): BenchEntry => ({
    name,
    crmkit_ms: round(crmkit),
    raw_ms: round(rawMs),
    ratio: round(crmkit / rawMs),
    ...(budget ? { budget } : {}),
    kind: budget ? 'ratio' : 'reference',
    note,
  });
  const entries: BenchEntry[] = [
    ratioEntry(`import ${n} deals`, median(results.map((r) => r.crmkit)), median(results.map((r) => r.rawAll)), `crm.imports.deals vs one raw readwrite transaction putting the same ${last.rows} records (deals, stage visits, events, board totals) into stores with the same indexes`, 1.3),
    ratioEntry(`import ${n} deals (raw: stored form)`, median(results.map((r) => r.crmkit)), median(results.map((r) => r.rawStored)), 'reference: the raw loop puts the records as crmkit stores them (absent indexed fields hold a placeholder, so every row is in every compound index): the ratio left is the JavaScript crmkit runs'),
    ratioEntry(`import ${n} deals (raw: deals only)`, median(results.map((r) => r.crmkit)), median(results.map((r) => r.rawDeals)), `reference: the raw loop puts only the ${n} deals, not the stage visits, events and totals crmkit also stores`),
    { name: `board p95, ${n} deals`, crmkit_ms: round(percentile(board, 95)), budget: 16, kind: 'ms', note: `crm.deals.board (6 stages x 50 cards, counts and totals), p95 of ${reads} reads: one frame (median ${round(median(board))} ms)` },
    ratioEntry(`board median vs raw scan, ${n} deals`, median(board), median(rawFull), 'reference: raw getAll of every deal of each stage on the board index, counted and summed in JS (a board without maintained totals)'),
    ratioEntry(`board median vs raw board reads, ${n} deals`, median(board), median(rawReads), "reference: the board's own reads done raw (in one transaction over every store: the pipeline, then 51 cards per stage on the board index and the $views records): the engine's part of a board read"),
    ratioEntry('six card pages: idb wrappers vs raw requests', median(wrapped), median(unwrapped), 'reference: index.getAll(range, 51) x 6 in one transaction through idb promise wrappers vs raw requests (why the adapter keeps raw requests on its hot paths)'),
  ];
  if (big > 0) {
    const { times, raw: rawBig } = await bigBoard(big, reads);
    entries.push({ name: `board p95, ${big} deals`, crmkit_ms: round(percentile(times, 95)), budget: 30, kind: 'ms', note: `the same board on a pipeline of ${big} deals (written through the adapter), p95 of ${reads} reads (median ${round(median(times))} ms)` });
    entries.push(ratioEntry(`board median vs raw board reads, ${big} deals`, median(times), median(rawBig), 'reference: the same raw reads as at the smaller size, on the big pipeline'));
  }
  return entries;
}

declare global {
  interface Window {
    crmkitBench: { runBench: typeof runBench };
  }
}
window.crmkitBench = { runBench };
