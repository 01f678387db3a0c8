/**
 * The benchmark, run inside Chromium: crmkit on IndexedDB against raw IndexedDB doing the same work.
 *
 * - import: `crm.imports.deals(n)` against one readwrite transaction putting the same rows (every row
 *   the import stored: deals, stage visits, events, board totals) into stores with the same indexes
 *   (raw key paths); and, for reference, against putting the deals alone.
 * - board: `crm.deals.board(pipeline, { limitPerStage: 50 })` over 6 stages (cards, counts, totals).
 *   The budgeted p95 (one frame at 10k deals) is a user opening the app on a database at rest: after
 *   the imports the runner leaves the browser 5 s of quiet, then a new crm (a new connection) on the
 *   imported database reads the board (`steadyBoard`). The page keeps one connection open meanwhile
 *   (`SENTINEL`): with a page reload instead, the next open waited over 2 minutes on the loaded 2-core
 *   machine (twice; most likely Chromium closing the origin's backing store once its last connection
 *   closed and compacting LevelDB after the bulk writes) — a cost of reopening right after a bulk
 *   import, not of reading a board, and not measured here. The reads right after the bulk writes (the
 *   import rounds, the raw puts, two databases dropped) are printed as a reference line, not budgeted:
 *   measured in order, their slow reads cluster in the first seconds after the writes, while Chromium's
 *   IndexedDB backend settles (LevelDB compaction in the browser process, competing for the same cores),
 *   and a board read interleaved on a reopened connection is no faster than on the import's own, so it
 *   is the engine settling, not crmkit. The board's median is also set against raw IndexedDB reading the
 *   same cards and computing the totals from every deal of each stage (what a board without maintained
 *   totals must do), and against the board's own reads done raw, interleaved read by read.
 * - a big pipeline (100k deals, written through the adapter's storage transactions, not the services):
 *   the board's p95 there, at rest likewise (the just-written figure as a reference line).
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
  /** Whether the raw puts ran before the import in this round (with the previous round's rows). */
  rawFirst: boolean;
  /** The records the import stored (as the services return them, and in their stored form), until the next round used them. */
  imported?: RawRows;
}

/** The records the raw side puts: the import's rows, and the same rows in their stored form. */
interface RawRows {
  readonly rows: Map<string, unknown[]>;
  readonly stored: Map<string, unknown[]>;
}

/** The three raw puts of a round; `raw` (every record) is kept, the other two databases are dropped. */
async function rawPuts(raw: string, rows: RawRows): Promise<{ rawAll: number; rawDeals: number; rawStored: number }> {
  const rawAll = await rawPut(raw, rows.rows);
  const dealsOnly = `${raw}-deals`;
  const rawDeals = await rawPut(dealsOnly, new Map([['deal', rows.rows.get('deal')!]]));
  await dropDb(dealsOnly);
  const rawStoredName = `${raw}-stored`;
  const rawStored = await rawPut(rawStoredName, rows.stored);
  await dropDb(rawStoredName);
  return { rawAll, rawDeals, rawStored };
}

/**
 * One import round. Who writes first alternates: after the previous round's databases were dropped,
 * the first writer of the next round competes with the IndexedDB backend reclaiming them (at rest,
 * crmkit going first every round measured 10.1, 15.8 and 17.5 s while raw stayed at 9.6–10.7 s). With
 * `previous` (the earlier round's records: same count and shape) the raw puts go first.
 */
async function importRound(n: number, round: number, previous?: RawRows): Promise<ImportRound> {
  const name = `bench-crm-${round}-${Date.now()}`;
  const raw = `bench-raw-${round}-${Date.now()}`;
  const { crm, pipelineId } = await newCrm(name, round + 1);
  const early = previous && (await rawPuts(raw, previous));
  if (early) progress(`round ${round}: raw first: put ${early.rawAll.toFixed(0)} ms (deals only ${early.rawDeals.toFixed(0)} ms, stored form ${early.rawStored.toFixed(0)} ms)`);
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
  const rows: RawRows = { rows: imported, stored: storedImported };
  const timed = early ?? (await rawPuts(raw, rows));
  if (!early) progress(`round ${round}: raw put ${timed.rawAll.toFixed(0)} ms (deals only ${timed.rawDeals.toFixed(0)} ms, stored form ${timed.rawStored.toFixed(0)} ms)`);
  const count = [...imported.values()].reduce((sum, list) => sum + list.length, 0);
  return { crmkit, ...timed, rows: count, name, raw, pipelineId, crm, rawFirst: early !== undefined, imported: rows };
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
  const ms = await rawBoardReadsOn(db, pipelineId);
  db.close();
  return ms;
}

/** `rawBoardReads` on an open connection. */
async function rawBoardReadsOn(db: IDBDatabase, pipelineId: string, stores: readonly string[] = Array.from(db.objectStoreNames)): Promise<number> {
  const started = performance.now();
  const tx = db.transaction([...stores]);
  await request(tx.objectStore('pipeline').get([TENANT, pipelineId]));
  const index = tx.objectStore('deal').index('board');
  await Promise.all([...STAGES.map((s) => request(index.getAll(IDBKeyRange.bound([TENANT, pipelineId, s], [TENANT, pipelineId, s, []]), 51))), request(tx.objectStore('$views').getAll())]);
  return performance.now() - started;
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

/** Board reads: `reads` timed calls after `warm` untimed ones. */
async function boardTimes(crm: Crm, pipelineId: string, reads: number, warm = 5): Promise<number[]> {
  for (let i = 0; i < warm; i++) await crm.deals.board(pipelineId, { limitPerStage: 50 });
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

/** The board's p95 on a pipeline of `n` deals written through the adapter (its write path keeps the totals), right after the writes; the database is kept for `steadyBoard`. */
async function bigBoard(n: number, reads: number): Promise<{ times: number[]; raw: number[]; name: string; pipelineId: string }> {
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
  return { times, raw, name, pipelineId };
}

export interface BenchOptions {
  readonly deals: number;
  readonly rounds: number;
  readonly reads: number;
  /** Deals of the big pipeline (0: skip). */
  readonly big: number;
}

/** A database kept for the board read at rest (`steadyBoard`, after the runner's quiet). */
export interface KeptBoard {
  readonly name: string;
  readonly pipelineId: string;
  readonly deals: number;
  /** The p95 and median of the board read right after the bulk writes (the reference line). */
  readonly justWritten: { readonly p95: number; readonly median: number };
}

/**
 * Runs the benchmark: `rounds` imports of `deals` (median), board reads right after them, and the big
 * pipeline. Returns the entries and the databases to read the board from at rest (`steadyBoard`).
 */
export async function runBench(options: BenchOptions): Promise<{ entries: BenchEntry[]; kept: KeptBoard[] }> {
  const { deals: n, rounds, reads, big } = options;
  sentinel ??= await openDb(SENTINEL);
  // Warm-up: JIT and the IndexedDB backend, not measured.
  const warm = await importRound(Math.min(500, n), 99);
  await warm.crm.close();
  await dropDb(warm.name);
  await dropDb(warm.raw);

  const results: ImportRound[] = [];
  // Odd rounds put raw first (see importRound); never the last, whose raw database the board reads compare with.
  const rawFirst = (round: number) => round % 2 === 1 && round < rounds - 1;
  for (let round = 0; round < rounds; round++) {
    const r = await importRound(n, round, rawFirst(round) ? results[round - 1]!.imported : undefined);
    // Rows kept past their use would grow the page's heap (longer collections during the board reads).
    for (const done of results) delete done.imported;
    if (!rawFirst(round + 1)) delete r.imported;
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
  await dropDb(last.raw);
  const kept: KeptBoard[] = [{ name: last.name, pipelineId: last.pipelineId, deals: n, justWritten: { p95: round(percentile(board, 95)), median: round(median(board)) } }];

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
    ratioEntry(`import ${n} deals`, median(results.map((r) => r.crmkit)), median(results.map((r) => r.rawAll)), `crm.imports.deals vs one raw readwrite transaction putting the same ${last.rows} records (deals, stage visits, events, board totals) into stores with the same indexes; rounds in order, crmkit/raw ms (r: raw wrote first): ${results.map((r) => `${r.crmkit.toFixed(0)}/${r.rawAll.toFixed(0)}${r.rawFirst ? ' r' : ''}`).join(', ')}`, 1.3),
    ratioEntry(`import ${n} deals (raw: stored form)`, median(results.map((r) => r.crmkit)), median(results.map((r) => r.rawStored)), 'reference: the raw loop puts the records as crmkit stores them (absent indexed fields hold a placeholder, so every row is in every compound index): the ratio left is the JavaScript crmkit runs'),
    ratioEntry(`import ${n} deals (raw: deals only)`, median(results.map((r) => r.crmkit)), median(results.map((r) => r.rawDeals)), `reference: the raw loop puts only the ${n} deals, not the stage visits, events and totals crmkit also stores`),
    { name: `board p95 right after bulk writes, ${n} deals`, crmkit_ms: round(percentile(board, 95)), kind: 'reference', note: `reference, not budgeted: crm.deals.board (6 stages x 50 cards, counts and totals), p95 of ${reads} reads started right after the import rounds, raw puts and dropped databases, while the IndexedDB backend settles (median ${round(median(board))} ms)` },
    ratioEntry(`board median vs raw scan, ${n} deals`, median(board), median(rawFull), 'reference: raw getAll of every deal of each stage on the board index, counted and summed in JS (a board without maintained totals)'),
    ratioEntry(`board median vs raw board reads right after bulk writes, ${n} deals`, median(board), median(rawReads), "reference: the board's own reads done raw (in one transaction over every store: the pipeline, then 51 cards per stage on the board index and the $views records), measured after the board's reads (not interleaved: the engine settles meanwhile)"),
    ratioEntry('six card pages: idb wrappers vs raw requests', median(wrapped), median(unwrapped), 'reference: index.getAll(range, 51) x 6 in one transaction through idb promise wrappers vs raw requests (why the adapter keeps raw requests on its hot paths)'),
  ];
  if (big > 0) {
    const b = await runBig(big, reads);
    entries.push(...b.entries);
    kept.push(b.kept);
  }
  return { entries, kept };
}

/**
 * The big pipeline (`bigBoard`): its reference entry and the database kept for `steadyBoard`. The
 * runner calls it after the 10k board at rest: read right after these 100k writes, that board measured
 * p95 29.1 ms at load ~1 while the 100k board read later measured 14.3 ms — most likely the IndexedDB
 * backend still compacting the big writes (not verified: the machine was never quiet again).
 */
export async function runBig(big: number, reads: number): Promise<{ entries: BenchEntry[]; kept: KeptBoard }> {
  const b = await bigBoard(big, reads);
  return {
    entries: [{ name: `board p95 right after bulk writes, ${big} deals`, crmkit_ms: round(percentile(b.times, 95)), kind: 'reference', note: `reference, not budgeted: the same board on a pipeline of ${big} deals read right after writing them through the adapter, p95 of ${reads} reads (median ${round(median(b.times))} ms; raw board reads after them: median ${round(median(b.raw))} ms)` }],
    kept: { name: b.name, pipelineId: b.pipelineId, deals: big, justWritten: { p95: round(percentile(b.times, 95)), median: round(median(b.times)) } },
  };
}

/** Milliseconds of quiet the runner leaves the browser before `steadyBoard`. */
export const QUIET_MS = 5000;

/** A database the page keeps a connection to from the first import to `release` (see the file comment). */
const SENTINEL = 'bench-sentinel';
let sentinel: IDBDatabase | undefined;

/** Closes the sentinel connection and deletes its database (after the last `steadyBoard`). */
export async function release(): Promise<void> {
  sentinel?.close();
  sentinel = undefined;
  await dropDb(SENTINEL);
}

/**
 * The board read by a user opening the app on a database at rest: run after the runner left
 * `QUIET_MS` of quiet. A new crm on the kept database, 5 warm-up reads, then `reads`
 * board reads, each followed by the board's own reads done raw (interleaved, so both see the same
 * machine). Deletes the database.
 */
export async function steadyBoard(kept: KeptBoard, reads: number): Promise<BenchEntry[]> {
  // A generous open timeout: on a loaded machine the backend can still be busy with the bulk writes' aftermath.
  const opening = performance.now();
  const crm = await createCrm({ storage: createIndexedDbStorage({ name: kept.name, blockedTimeoutMs: 120_000 }), tenantId: TENANT, actor: { userId: 'u1' }, random: { seed: 3 }, features: [imports()] });
  progress(`at rest (${kept.deals} deals): the crm opened in ${(performance.now() - opening).toFixed(0)} ms`);
  const db = await openDb(kept.name);
  for (let i = 0; i < 5; i++) await rawBoardReadsOn(db, kept.pipelineId);
  const board = await boardTimes(crm, kept.pipelineId, 0);
  const raw: number[] = [];
  // The same raw reads in a transaction over only the three stores they read (the adapter's span every store).
  const narrow: number[] = [];
  for (let i = 0; i < reads; i++) {
    board.push(...(await boardTimes(crm, kept.pipelineId, 1, 0)));
    raw.push(await rawBoardReadsOn(db, kept.pipelineId));
    narrow.push(await rawBoardReadsOn(db, kept.pipelineId, ['pipeline', 'deal', '$views']));
  }
  db.close();
  await crm.close();
  await dropDb(kept.name);
  // The reads in order (crmkit / raw), for finding where a tail comes from (first reads, periodic, GC …).
  progress(`at rest (${kept.deals} deals), reads in order, crmkit/raw ms: ${board.map((t, i) => `${t.toFixed(1)}/${raw[i]!.toFixed(1)}`).join(' ')}`);
  const n = kept.deals;
  return [
    { name: `board p95, ${n} deals`, crmkit_ms: round(percentile(board, 95)), budget: n >= 100_000 ? 30 : 16, kind: 'ms', note: `crm.deals.board (6 stages x 50 cards, counts and totals) on a database at rest (${QUIET_MS / 1000} s of quiet, then a new crm), p95 of ${reads} reads (median ${round(median(board))} ms; the board's own reads done raw, interleaved: p95 ${round(percentile(raw, 95))} ms, median ${round(median(raw))} ms; right after the bulk writes: p95 ${kept.justWritten.p95} ms, median ${kept.justWritten.median} ms)` },
    { name: `board median vs raw board reads, ${n} deals`, crmkit_ms: round(median(board)), raw_ms: round(median(raw)), ratio: round(median(board) / median(raw)), kind: 'reference', note: "reference: the board's own reads done raw (in one transaction over every store: the pipeline, then 51 cards per stage on the board index and the $views records), interleaved read by read with the board's, at rest: the engine's part of a board read" },
    { name: `raw board reads: 3 stores vs every store, ${n} deals`, crmkit_ms: round(median(narrow)), raw_ms: round(median(raw)), ratio: round(median(narrow) / median(raw)), kind: 'reference', note: `reference: the board's raw reads in a transaction over the pipeline, deal and $views stores only vs over every store (as the adapter's transactions), interleaved, medians (p95 ${round(percentile(narrow, 95))} vs ${round(percentile(raw, 95))} ms)` },
  ];
}

declare global {
  interface Window {
    crmkitBench: { runBench: typeof runBench; runBig: typeof runBig; steadyBoard: typeof steadyBoard; release: typeof release; QUIET_MS: number };
  }
}
window.crmkitBench = { runBench, runBig, steadyBoard, release, QUIET_MS };
