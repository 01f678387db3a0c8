/**
 * The benchmark, run inside Chromium: crmkit on IndexedDB against raw IndexedDB doing the same work.
 *
 * - import: `crm.imports.deals(n)` against one readwrite transaction putting the same rows (every row
 *   the import stored: deals, stage visits, events) into stores with the same indexes (raw key paths);
 *   and, for reference, against putting the deals alone.
 * - board: `crm.deals.board(pipeline, { limitPerStage: 50 })` over 6 stages (cards, counts, totals)
 *   against raw `getAll` on the board index of each stage (the stage's deals, counted and summed in JS);
 *   for reference also the page queries alone, and raw `getAll(range, 50)`.
 */
import { createCrm, type CrmWith } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, type Row } from '@crmkit/core/storage';
import { imports, type ImportsFeature } from '@crmkit/core/imports';

type Crm = CrmWith<[ImportsFeature]>;
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';

export interface BenchEntry {
  readonly name: string;
  readonly crmkit_ms: number;
  readonly raw_ms: number;
  readonly ratio: number;
  readonly budget?: number;
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
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

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
  });
}

async function dropDb(name: string): Promise<void> {
  await request(indexedDB.deleteDatabase(name)).catch(() => undefined);
}

/** Every row of every entity, read back through the adapter (outside any measurement). */
async function dumpCrmkit(name: string): Promise<Map<string, Row[]>> {
  const storage = createIndexedDbStorage({ name });
  await storage.open(CRM_STORAGE_SCHEMA);
  const out = new Map<string, Row[]>();
  await storage.transaction('r', async (tx) => {
    for (const entity of CRM_STORAGE_SCHEMA.entities) out.set(entity.name, (await tx.query(entity.name, TENANT, {})).rows);
  });
  await storage.close();
  return out;
}

async function rawPut(name: string, rows: Map<string, Row[]>): Promise<number> {
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

async function newCrm(name: string, seed: number): Promise<{ crm: Crm; pipelineId: string }> {
  const crm = await createCrm({ storage: createIndexedDbStorage({ name }), tenantId: TENANT, actor: { userId: 'u1' }, random: { seed }, features: [imports()] });
  const stages = [...STAGES.map((key) => ({ key, name: key })), { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages });
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
  rows: number;
}

async function importRound(n: number, round: number): Promise<ImportRound & { name: string; raw: string; pipelineId: string; crm: Crm }> {
  const name = `bench-crm-${round}-${Date.now()}`;
  const raw = `bench-raw-${round}-${Date.now()}`;
  const { crm, pipelineId } = await newCrm(name, round + 1);
  const before = await dumpCrmkit(name);
  const data = inputs(n, pipelineId);
  const started = performance.now();
  await crm.imports.deals(data);
  const crmkit = performance.now() - started;
  const after = await dumpCrmkit(name);
  const imported = new Map<string, Row[]>();
  for (const [store, rows] of after) {
    const old = new Set((before.get(store) ?? []).map((r) => r.id));
    const fresh = rows.filter((r) => !old.has(r.id));
    if (fresh.length) imported.set(store, fresh);
  }
  const rawAll = await rawPut(raw, imported);
  const dealsOnly = `${raw}-deals`;
  const rawDeals = await rawPut(dealsOnly, new Map([['deal', imported.get('deal')!]]));
  await dropDb(dealsOnly);
  // The raw board reads need the pipeline too (same id) in the raw database: the deals are there.
  const rows = [...imported.values()].reduce((sum, list) => sum + list.length, 0);
  return { crmkit, rawAll, rawDeals, rows, name, raw, pipelineId, crm };
}

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

async function crmkitPages(name: string, pipelineId: string): Promise<number> {
  const storage = createIndexedDbStorage({ name });
  await storage.open(CRM_STORAGE_SCHEMA);
  const started = performance.now();
  await storage.transaction('r', async (tx) => {
    for (const stage of STAGES) {
      await tx.query('deal', TENANT, {
        filter: { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: pipelineId }, { op: 'eq', field: 'stageKey', value: stage }] },
        sort: [{ field: 'stageEnteredAt' }],
        limit: 50,
      });
    }
  });
  const ms = performance.now() - started;
  await storage.close();
  return ms;
}

/** Runs the benchmark: `rounds` imports of `n` deals (median), then board reads (median of `reads`). */
export async function runBench(n: number, rounds: number, reads: number): Promise<BenchEntry[]> {
  // Warm-up: JIT and the IndexedDB backend, not measured.
  const warm = await importRound(Math.min(500, n), 99);
  await warm.crm.close();
  await dropDb(warm.name);
  await dropDb(warm.raw);

  const results: (ImportRound & { name: string; raw: string; pipelineId: string; crm: Crm })[] = [];
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
  const board: number[] = [];
  const rawFull: number[] = [];
  const rawPage: number[] = [];
  const pages: number[] = [];
  for (let i = 0; i < reads; i++) {
    let started = performance.now();
    const b = await last.crm.deals.board(last.pipelineId, { limitPerStage: 50 });
    board.push(performance.now() - started);
    if (b.columns.length !== STAGES.length || b.columns.some((c) => c.deals.length !== 50)) throw new Error('unexpected board');
    rawFull.push(await rawBoard(raw, last.pipelineId, false));
    rawPage.push(await rawBoard(raw, last.pipelineId, true));
    pages.push(await crmkitPages(last.name, last.pipelineId));
    started = performance.now();
  }
  raw.close();
  await last.crm.close();
  await dropDb(last.name);
  await dropDb(last.raw);

  const entry = (name: string, crmkit: number, rawMs: number, note: string, budget?: number): BenchEntry => ({
    name,
    crmkit_ms: Math.round(crmkit * 10) / 10,
    raw_ms: Math.round(rawMs * 10) / 10,
    ratio: Math.round((crmkit / rawMs) * 100) / 100,
    ...(budget ? { budget } : {}),
    note,
  });
  return [
    entry(`import ${n} deals`, median(results.map((r) => r.crmkit)), median(results.map((r) => r.rawAll)), `crm.imports.deals vs one raw readwrite transaction putting the same ${last.rows} rows (deals, stage visits, events) into stores with the same indexes`, 1.3),
    entry(`import ${n} deals (raw: deals only)`, median(results.map((r) => r.crmkit)), median(results.map((r) => r.rawDeals)), `reference: the raw loop puts only the ${n} deals, not the stage visits and events crmkit also stores`),
    entry('board 6 stages x 50 cards', median(board), median(rawFull), `crm.deals.board (pages, counts, totals over ${n} deals) vs raw getAll on the board index per stage (the stage's deals, counted and summed in JS)`, 1.5),
    entry('board pages only (6 x query limit 50)', median(pages), median(rawPage), 'reference: the six page queries through the adapter vs raw getAll(range, 50) on the board index'),
    entry('board 6x50 vs raw getAll(range, 50)', median(board), median(rawPage), 'reference: the full board (with counts and totals over every deal) vs raw reads of the 300 cards only'),
  ];
}

declare global {
  interface Window {
    crmkitBench: { runBench: typeof runBench };
  }
}
window.crmkitBench = { runBench };
