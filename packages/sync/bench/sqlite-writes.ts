// What `syncChanges()` costs a server's writes (design sync.md §14): deal create + advance on SQLite (a
// file, the adapter's defaults) with the feature vs the same writes without it, in one process, rounds
// alternating between the two so load drifts hit both alike. Budget: median with ≤ 1.25× median without.
//
//   pnpm --filter @crmkit/sync bench:writes
//   … -- --deals 300 --rounds 9
//
// Prints wall and CPU-time ratios, the load average and a verdict line; exits 1 when the ratio misses
// (`reportVerdict`: the policy of every `pnpm bench` step, so the root `pnpm bench` fails).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCrm, silentLogger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { syncChanges } from '../src/server/index.js';
import { reportVerdict } from './verdict.js';

const BUDGET = 1.25;
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const DEALS = arg('deals', 200);
const ROUNDS = arg('rounds', 7);

async function serverCrm(file: string, synced: boolean) {
  const crm = await createCrm({
    storage: createSqliteStorage({ filename: file }), tenantId: 'bench', actor: { userId: 'admin' }, logger: silentLogger,
    features: synced ? ([tasks(), activities(), syncChanges()] as const) : ([tasks(), activities()] as const),
  });
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }] });
  return { crm, pipeline };
}

type Server = Awaited<ReturnType<typeof serverCrm>>;

/** Bytes this process passed to `write` so far (Linux `/proc/self/io`; 0 elsewhere): the WAL pages a commit writes. */
const written = () => (existsSync('/proc/self/io') ? Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0) : 0);

interface Times {
  readonly wall: number;
  readonly cpu: number;
  readonly bytes: number;
}

/** `DEALS` creates, then an advance of each: wall and CPU ms, bytes written. */
async function round({ crm, pipeline }: Server, n: number): Promise<Times> {
  const bytes = written();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < DEALS; i++) ids.push((await crm.deals.create({ title: `Deal ${n}.${i}`, pipelineId: pipeline.id, ownerId: 'anna' })).id);
  for (const id of ids) await crm.deals.advance(id);
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000, bytes: written() - bytes };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crmkit-sync-writes-'));
  const without = await serverCrm(join(dir, 'without.db'), false);
  const withSync = await serverCrm(join(dir, 'with.db'), true);
  const load = loadavg().map(r2);
  try {
    await round(without, -1); // warm-up (JIT, statement caches), not counted
    await round(withSync, -1);
    const times = { without: [] as Times[], with: [] as Times[] };
    for (let n = 0; n < ROUNDS; n++) {
      // Alternate which goes first: neither always runs on the warmer cache or the quieter moment.
      const order = n % 2 ? ([['with', withSync], ['without', without]] as const) : ([['without', without], ['with', withSync]] as const);
      for (const [name, server] of order) times[name].push(await round(server, n));
    }
    const ops = DEALS * 2;
    const wall = { without: median(times.without.map((t) => t.wall)), with: median(times.with.map((t) => t.wall)) };
    const cpu = { without: median(times.without.map((t) => t.cpu)), with: median(times.with.map((t) => t.cpu)) };
    const bytes = { without: median(times.without.map((t) => t.bytes)), with: median(times.with.map((t) => t.bytes)) };
    const ratio = r2(wall.with / wall.without);
    const verdict = ratio <= BUDGET ? 'ok' : 'MISSED';
    console.log(`\nsyncChanges() on SQLite: ${DEALS} deal creates + ${DEALS} advances per round, ${ROUNDS} rounds alternating, medians`);
    console.log(`(${cpus().length} CPUs, load ${load.join(' / ')} before, ${loadavg().map(r2).join(' / ')} after)\n`);
    console.log('| variant | ms per round | µs per write | CPU ms | KiB written per write |');
    console.log('|---|---|---|---|---|');
    for (const name of ['without', 'with'] as const) console.log(`| ${name} syncChanges() | ${r2(wall[name])} | ${r2((wall[name] * 1000) / ops)} | ${r2(cpu[name])} | ${r2(bytes[name] / 1024 / ops)} |`);
    console.log(`\nratio with/without: ${ratio}× (CPU time ${r2(cpu.with / cpu.without)}×), budget ≤ ${BUDGET}×: ${verdict}`);
    console.log(`rounds (without/with ms): ${times.without.map((t, i) => `${Math.round(t.wall)}/${Math.round(times.with[i]!.wall)}`).join(' ')}\n`);
    reportVerdict(verdict === 'ok' ? [] : [`syncChanges() writes ${ratio}× vs ≤ ${BUDGET}×`]);
  } finally {
    await without.crm.close();
    await withSync.crm.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
