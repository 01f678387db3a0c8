/**
 * Profiling aid for the board (not a benchmark): fills a pipeline through the adapter, then times the
 * parts of one `crm.deals.board` read separately inside the page. Run by bench/profile-board.ts.
 */
import { createCrm } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, type Row } from '@crmkit/core/storage';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';

const STAGES = ['lead-in', 'contacted', 'qualified', 'demo', 'proposal', 'negotiation'];
const TENANT = 'bench';
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

function dealRow(i: number, pipelineId: string): Row {
  const stageKey = STAGES[i % STAGES.length]!;
  const amount = 1000 + ((i * 7919) % 100_000);
  const currency = i % 5 ? 'EUR' : 'USD';
  const probability = 10 + STAGES.indexOf(stageKey) * 15;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
  return {
    id: `deal_${String(i).padStart(8, '0')}`, tenantId: TENANT, version: 1, createdAt: at, updatedAt: at, title: `Deal ${i}`, pipelineId, stageKey, status: 'open', ownerId: `u${i % 7}`,
    value: { amount, currency }, weightedValue: { amount: Math.round((amount * probability) / 100), currency }, lineItems: [], probability, probabilityManual: false,
    stageEnteredAt: at, lastActivityAt: at, postponeCount: 0, stagePostponeCount: 0, tags: i % 3 ? ['b2b'] : [], custom: {},
  } as Row;
}

const request = <T>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });

export async function setup(n: number) {
  const name = `profile-${Date.now()}`;
  const crm = await createCrm({ storage: createIndexedDbStorage({ name }), tenantId: TENANT, actor: { userId: 'u1' }, random: { seed: 1 } });
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [...STAGES.map((key) => ({ key, name: key })), { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }] });
  const storage = createIndexedDbStorage({ name });
  await storage.open(CRM_STORAGE_SCHEMA);
  for (let i = 0; i < n; i += 5000) {
    const rows = Array.from({ length: Math.min(5000, n - i) }, (_, j) => dealRow(i + j, pipeline.id));
    await storage.transaction('rw', (tx) => tx.write('deal', TENANT, rows.map((row) => ({ type: 'insert' as const, row }))));
  }
  const pipelineId = pipeline.id;
  const inner = createIndexedDbStorage({ name });
  const log: string[] = [];
  let t0 = 0;
  const stamp = () => (performance.now() - t0).toFixed(2);
  const traced = {
    ...inner,
    open: inner.open.bind(inner), onChange: inner.onChange.bind(inner), close: inner.close.bind(inner), ensureIndexes: inner.ensureIndexes.bind(inner),
    transaction: (mode: 'r' | 'rw', fn: (tx: never) => Promise<unknown>) => {
      log.push(`${stamp()} tx(${mode}) called`);
      return inner.transaction(mode, async (tx) => {
        log.push(`${stamp()} tx fn starts`);
        const wrap = new Proxy(tx, { get: (target, key) => { const v = (target as never)[key]; if (typeof v !== 'function') return v; return async (...a: unknown[]) => { const k = `${String(key)}(${String(a[0])}${key === 'getMany' ? ' ' + JSON.stringify(a[2]) : ''})`; log.push(`${stamp()} > ${k}`); const r = await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a); log.push(`${stamp()} < ${k}`); return r; }; } });
        const r = await fn(wrap as never);
        log.push(`${stamp()} tx fn resolved`);
        return r;
      }).finally(() => log.push(`${stamp()} tx done`));
    },
  };
  const tcrm = await createCrm({ storage: traced as never, tenantId: TENANT, actor: { userId: 'u1' }, random: { seed: 2 } });
  (window as unknown as { traceBoard: () => Promise<string> }).traceBoard = async () => {
    for (let i = 0; i < 5; i++) await tcrm.deals.board(pipelineId, { limitPerStage: 50 });
    log.length = 0;
    t0 = performance.now();
    await tcrm.deals.board(pipelineId, { limitPerStage: 50 });
    log.push(`${stamp()} board returned`);
    return log.join('\n');
  };
  const raw = await request(indexedDB.open(name));
  const board = () => crm.deals.board(pipelineId, { limitPerStage: 50 });
  const view = crm.as({ userId: 'u1', roles: [] } as never);
  const inPipeline = { op: 'eq', field: 'pipelineId', value: pipelineId } as const;
  const sort = [{ field: 'stageEnteredAt', direction: 'asc' as const }];
  const parts: Record<string, () => Promise<unknown>> = {
    board,
    emptyTx: () => storage.transaction('r', async () => undefined),
    pipelineGet: () => storage.transaction('r', (tx) => tx.getMany('pipeline', TENANT, [pipelineId])),
    pages: () => storage.transaction('r', (tx) => Promise.all(STAGES.map((s) => tx.query('deal', TENANT, { filter: { op: 'and', filters: [inPipeline, { op: 'eq', field: 'stageKey', value: s }] }, sort, limit: 50 })))),
    totals: () => storage.transaction('r', (tx) => tx.aggregate('deal', TENANT, { filter: { op: 'and', filters: [inPipeline, { op: 'in', field: 'stageKey', values: STAGES }] }, groupBy: ['stageKey', 'value.currency'], metrics: { count: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' }, weighted: { fn: 'sum', field: 'weightedValue.amount' } } })),
    rawPages: async () => {
      const index = raw.transaction('deal').objectStore('deal').index('board');
      return Promise.all(STAGES.map((s) => request(index.getAll(IDBKeyRange.bound([TENANT, pipelineId, s], [TENANT, pipelineId, s, []]), 51))));
    },
    rawPageKeys: async () => {
      const index = raw.transaction('deal').objectStore('deal').index('board');
      return Promise.all(STAGES.map((s) => request(index.getAllKeys(IDBKeyRange.bound([TENANT, pipelineId, s], [TENANT, pipelineId, s, []]), 51))));
    },
    rawPagesAllStores: async () => {
      const index = raw.transaction(Array.from(raw.objectStoreNames)).objectStore('deal').index('board');
      return Promise.all(STAGES.map((s) => request(index.getAll(IDBKeyRange.bound([TENANT, pipelineId, s], [TENANT, pipelineId, s, []]), 51))));
    },
    rawPagesSerial: async () => {
      const index = raw.transaction('deal').objectStore('deal').index('board');
      for (const s of STAGES) await request(index.getAll(IDBKeyRange.bound([TENANT, pipelineId, s], [TENANT, pipelineId, s, []]), 51));
    },
    rawOnePage: async () => {
      const index = raw.transaction('deal').objectStore('deal').index('board');
      return request(index.getAll(IDBKeyRange.bound([TENANT, pipelineId, STAGES[0]], [TENANT, pipelineId, STAGES[0], []]), 51));
    },
    rawPrimaryGetAll306: async () => request(raw.transaction('deal').objectStore('deal').getAll(IDBKeyRange.lowerBound([TENANT]), 306)),
    rawBoardLike: async () => {
      const tx = raw.transaction(Array.from(raw.objectStoreNames));
      await request(tx.objectStore('pipeline').get([TENANT, pipelineId]));
      const index = tx.objectStore('deal').index('board');
      return Promise.all([...STAGES.map((s) => request(index.getAll(IDBKeyRange.bound([TENANT, pipelineId, s], [TENANT, pipelineId, s, []]), 51))), request(tx.objectStore('$views').getAll())]);
    },
    rawViews: async () => request(raw.transaction('$views').objectStore('$views').getAll()),
    rawAllStoresTx: async () => { const tx = raw.transaction(Array.from(raw.objectStoreNames)); return request(tx.objectStore('pipeline').get([TENANT, pipelineId])); },
    viewBoard: () => (view as typeof crm).deals.board(pipelineId, { limitPerStage: 50 }).catch((e) => e),
  };
  (window as unknown as { profileParts: typeof parts }).profileParts = parts;
  const sample = (await request(raw.transaction('deal').objectStore('deal').index('board').getAll(IDBKeyRange.bound([TENANT, pipelineId, STAGES[0]], [TENANT, pipelineId, STAGES[0], []]), 1)))[0];
  return { names: Object.keys(parts), sample: JSON.stringify(sample) };
}

export async function ab(parts: string[], reads: number) {
  const fns = parts.map((p) => (window as unknown as { profileParts: Record<string, () => Promise<unknown>> }).profileParts[p]!);
  const times = parts.map(() => [] as number[]);
  for (let i = 0; i < reads + 5; i++)
    for (let j = 0; j < fns.length; j++) {
      const t = performance.now();
      await fns[j]!();
      if (i >= 5) times[j]!.push(performance.now() - t);
    }
  return parts.map((part, j) => ({ part, median: percentile(times[j]!, 50), p95: percentile(times[j]!, 95) }));
}

export async function time(part: string, reads: number) {
  const fn = (window as unknown as { profileParts: Record<string, () => Promise<unknown>> }).profileParts[part]!;
  for (let i = 0; i < 5; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reads; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return { part, median: percentile(times, 50), p95: percentile(times, 95) };
}

/**
 * `parts` called in turn, `reads` times each after 5 untimed rounds, each call a user-timing measure
 * named `part#i` (what `--tail` finds in the trace). Returns the in-page times.
 */
export async function tail(parts: string[], reads: number) {
  const fns = parts.map((p) => (window as unknown as { profileParts: Record<string, () => Promise<unknown>> }).profileParts[p]!);
  const times = parts.map(() => [] as number[]);
  for (let i = 0; i < reads + 5; i++)
    for (let j = 0; j < fns.length; j++) {
      const t = performance.now();
      await fns[j]!();
      const end = performance.now();
      if (i < 5) continue;
      times[j]!.push(end - t);
      performance.measure(`${parts[j]}#${i - 5}`, { start: t, end });
    }
  return times;
}

declare global { interface Window { crmkitProfile: { setup: typeof setup; time: typeof time; ab: typeof ab; tail: typeof tail } } }
window.crmkitProfile = { setup, time, ab, tail };
