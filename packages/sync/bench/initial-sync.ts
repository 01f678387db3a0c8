/**
 * `pnpm --filter @crmkit/sync bench` (design sync.md §14): a Node sync server on SQLite (in memory)
 * behind Node's http on loopback holding `--deals N` deals and as many contacts; a new device in headless
 * Chromium (a fresh on-disk profile, as users have) pulls them all into IndexedDB in pages of 1 000,
 * against a raw IndexedDB import of the same rows in 1 000-row transactions, `--rounds R` times in
 * alternating order. Budget: initial sync ≤ 1.5× raw (medians). Then a connected device: a server
 * change seen by its observer, median of 50 < 100 ms. Prints each figure with its budget and a verdict line;
 * exits with 1 when one is missed (`reportVerdict`: the policy of every `pnpm bench` step).
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createCrm, silentLogger, type Crm } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';
import { launchProfile, serveDevicePage } from '../test/chromium/session.js';
import { seedRows } from './seed.js';
import { reportVerdict } from './verdict.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const DEALS = option('deals', 10_000);
const ROUNDS = option('rounds', 3);
const PAGE_ROWS = 1_000;
const RATIO_BUDGET = 1.5;
const LIVE_BUDGET_MS = 100;
const LIVE_CHANGES = 50;
const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - began) / 1000).toFixed(1)}s] ${message}\n`);
const began = Date.now();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function seed(n: number): Promise<{ crm: Crm; dealId: string }> {
  const storage = createSqliteStorage({ filename: ':memory:' });
  const { dealIds } = await seedRows(storage, n);
  const crm = await createCrm({ storage, tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, features: [tasks(), activities(), syncChanges({ backfillChunk: 2_000 })] as const });
  return { crm, dealId: dealIds[0]! };
}

log(`seeding ${DEALS} deals + ${DEALS} contacts`);
const { crm, dealId } = await seed(DEALS);
const server = createSyncServer(crm, { principal: (request) => (request.headers.get('x-user') ? { userId: request.headers.get('x-user')! } : undefined) });
let serverMs = 0;
let pulls = 0;
const timed = {
  async handle(request: Request): Promise<Response> {
    const started = performance.now();
    const response = await server.handle(request);
    if (request.url.endsWith('/pull')) {
      const body = await response.text();
      serverMs += performance.now() - started;
      pulls++;
      return new Response(body, response);
    }
    return response;
  },
};
const http = await serveDevicePage(timed, fileURLToPath(new URL('./initial-sync-page.ts', import.meta.url)));
const profile = await launchProfile();
let missed: string[] = [];
try {
  const page = await profile.context.newPage();
  page.on('console', (message) => log(`page: ${message.text()}`));
  await page.goto(`${http.url}/`);
  await page.waitForFunction(() => 'crmkitSyncBench' in window, undefined, { timeout: 30_000 });

  const sync: number[] = [];
  const raw: number[] = [];
  const adapter: number[] = [];
  const serverTimes: number[] = [];
  let rows = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const db = `device-${round}`;
    const initial = await page.evaluate(([name, pageRows]) => window.crmkitSyncBench.initialSync(name, pageRows), [db, PAGE_ROWS] as const);
    // The raw and adapter imports put the rows the sync pulled, so they run after it; their order alternates.
    const imports = round % 2 ? (['adapterImport', 'rawImport'] as const) : (['rawImport', 'adapterImport'] as const);
    const took: Record<string, number> = {};
    for (const kind of imports) took[kind] = (await page.evaluate(([k, name, pageRows]) => window.crmkitSyncBench[k](name, pageRows), [kind, `${kind}-${round}`, PAGE_ROWS] as const)).ms;
    await page.evaluate(async (names) => {
      for (const name of names) await window.crmkitSyncBench.drop(name);
    }, [db, `rawImport-${round}`, `adapterImport-${round}`]);
    sync.push(initial.ms);
    raw.push(took.rawImport!);
    adapter.push(took.adapterImport!);
    serverTimes.push(serverMs);
    rows = initial.rows;
    log(`round ${round + 1}: initial sync ${initial.ms.toFixed(0)} ms (server answering ${pulls} pulls: ${serverMs.toFixed(0)} ms), raw import ${took.rawImport!.toFixed(0)} ms, adapter import ${took.adapterImport!.toFixed(0)} ms (${initial.rows} rows)`);
    serverMs = 0;
    pulls = 0;
  }
  const ratio = median(sync) / median(raw);

  await page.evaluate(([name, deal]) => window.crmkitSyncBench.connect(name, deal), ['live', dealId] as const);
  const latencies: number[] = [];
  for (let i = 0; i < LIVE_CHANGES; i++) {
    const title = `Live ${i}`;
    const sent = Date.now();
    await crm.deals.update(dealId, { title });
    const seen = await page.waitForFunction((t) => window.crmkitSyncBench.seen(t), title, { timeout: 10_000, polling: 5 });
    latencies.push(((await seen.jsonValue()) as number) - sent);
  }
  const live = median(latencies);

  const okRatio = ratio <= RATIO_BUDGET;
  const okLive = live < LIVE_BUDGET_MS;
  missed = [...(okRatio ? [] : [`initial sync ${ratio.toFixed(2)}× raw vs ≤ ${RATIO_BUDGET}×`]), ...(okLive ? [] : [`live median ${live} ms vs < ${LIVE_BUDGET_MS} ms`])];
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`initial sync of ${rows} rows (${DEALS} deals + ${DEALS} contacts, pages of ${PAGE_ROWS}), ${ROUNDS} rounds, Chromium ${profile.context.browser()?.version() ?? ''}, ${cpus().length} CPUs, load ${load}`);
  console.log(`  initial sync (median)  ${median(sync).toFixed(0)} ms   [${sync.map((v) => v.toFixed(0)).join(', ')}]`);
  console.log(`  raw IndexedDB (median) ${median(raw).toFixed(0)} ms   [${raw.map((v) => v.toFixed(0)).join(', ')}]`);
  console.log(`  reference: the server's time answering the pulls (median) ${median(serverTimes).toFixed(0)} ms; the same rows through the crmkit IndexedDB adapter (median) ${median(adapter).toFixed(0)} ms = ${(median(adapter) / median(raw)).toFixed(2)}× raw`);
  console.log(`  ratio ${ratio.toFixed(2)}×  budget ≤ ${RATIO_BUDGET}×  ${okRatio ? 'OK' : 'MISSED'}`);
  console.log(`  server change → observer on a connected page: median ${live} ms of ${LIVE_CHANGES} (p90 ${[...latencies].sort((a, b) => a - b)[Math.floor(LIVE_CHANGES * 0.9)]} ms)  budget < ${LIVE_BUDGET_MS} ms  ${okLive ? 'OK' : 'MISSED'}`);
} finally {
  await profile.close();
  await http.stop();
  await server.close();
  await crm.close();
}
reportVerdict(missed);
process.exit();
