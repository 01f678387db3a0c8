// Where the CPU time of crmkit's SQLite hot paths goes (issue 17): runs `crm.deals.get` or
// `crm.deals.advance` in a loop under V8's sampling profiler (node:inspector, only the measured loop,
// after a warm-up) and prints the functions with the most self time and the most inclusive time.
// `--cpu-prof` profiles the whole process, setup included; this profiles the loop alone.
//
//   npx tsx bench/profile-hot.ts FILE get|advance [CALLS] [--save out.cpuprofile] [--alloc]
//
// --alloc: bytes allocated per call by function (V8's sampling heap profiler) instead of CPU time.
//
// FILE: a database made by `pnpm bench -- --engines sqlite --work DIR` (tenant "bench"), e.g. a copy of
// DIR/import-0.db; advance moves its deals: use a copy.
import { writeFileSync } from 'node:fs';
import { Session, type Profiler } from 'node:inspector';
import { createCrm, silentLogger } from '@crmkit/core';
import { createSqliteStorage } from '../src/index.js';
import { OPEN_STAGES, seeded } from './bench-data.js';
import Database from 'better-sqlite3';

interface AllocationNode {
  readonly callFrame: Profiler.ProfileNode['callFrame'];
  readonly selfSize: number;
  readonly children: AllocationNode[];
}

const args = process.argv.slice(2);
const allocAt = args.indexOf('--alloc');
const alloc = allocAt >= 0 && args.splice(allocAt, 1).length > 0;
const saveAt = args.indexOf('--save');
const save = saveAt >= 0 ? args.splice(saveAt, 2)[1] : undefined;
const [file, what = 'get', callsArg = what === 'get' ? '50000' : '2000'] = args;
if (!file || (what !== 'get' && what !== 'advance')) throw new Error('usage: npx tsx bench/profile-hot.ts FILE get|advance [CALLS] [--save out.cpuprofile]');
const calls = Number(callsArg);

const rnd = seeded(3);
const db = new Database(file, { readonly: true });
// get: random deals (as run-bench reads them); advance: deals of the first open stage.
const ids = (
  what === 'get'
    ? (db.prepare(`SELECT id FROM "deal" WHERE tenant_id = 'bench' ORDER BY rowid`).pluck().all() as string[]).map((id, _, all) => all[Math.floor(rnd() * all.length)]!)
    : (db.prepare(`SELECT id FROM "deal" WHERE tenant_id = 'bench' AND stage_key = ? ORDER BY rowid`).pluck().all(OPEN_STAGES[0]) as string[])
).slice(0, calls + 500);
db.close();
if (ids.length < calls + 500) throw new Error(`${file} has ${ids.length} deals to ${what}; ${calls + 500} needed`);
const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'bench', logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 } });
const call = what === 'get' ? (id: string) => crm.deals.get(id) : (id: string) => crm.deals.advance(id);
for (const id of ids.slice(calls)) await call(id);

const session = new Session();
session.connect();
const post = <T>(method: string, params?: object) => new Promise<T>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))));
if (alloc) {
  // Allocation sites instead of time: V8's sampling heap profiler (a sample every 512 bytes on average),
  // objects collected since included, so the bytes each function allocates per call.
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (const id of ids.slice(0, calls)) await call(id);
  const { profile } = await post<{ profile: { head: AllocationNode } }>('HeapProfiler.stopSampling');
  session.disconnect();
  await crm.close();
  const bySelf = new Map<string, number>();
  const walk = (node: AllocationNode) => {
    const f = node.callFrame;
    const l = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(packages|node_modules)\//, '')}:${f.lineNumber + 1}`.trim();
    bySelf.set(l, (bySelf.get(l) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  const total = [...bySelf.values()].reduce((a, b) => a + b, 0);
  console.log(`${what}: ${calls} calls, ${(total / calls / 1024).toFixed(1)} kB allocated per call (sampled)\n\nbytes/call  function`);
  for (const [l, bytes] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${(bytes / calls).toFixed(0).padStart(9)}  ${l}`);
  process.exit(0);
}
await post('Profiler.enable');
await post('Profiler.setSamplingInterval', { interval: 50 });
await post('Profiler.start');
const cpu = process.cpuUsage();
for (const id of ids.slice(0, calls)) await call(id);
const used = process.cpuUsage(cpu);
const { profile } = await post<{ profile: Profiler.Profile }>('Profiler.stop');
session.disconnect();
await crm.close();
if (save) writeFileSync(save, JSON.stringify(profile));

// Self time per node from the samples; inclusive time per function = self of its subtree, counted once per stack.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const deltas = profile.timeDeltas ?? [];
const selfUs = new Map<number, number>();
profile.samples?.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? 0)));
const label = (n: Profiler.ProfileNode) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(packages|node_modules)\//, '')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  total += us;
  const node = byId.get(id)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const l = label(byId.get(at)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + us);
  }
}
const perCall = (us: number) => (us / calls).toFixed(1).padStart(7);
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`${what}: ${calls} calls, ${perCall(used.user + used.system)} µs CPU per call (process), ${perCall(total)} µs sampled per call\n`);
console.log('self µs/call  function');
for (const [l, us] of top(self, 40)) console.log(`${perCall(us)}  ${l}`);
console.log('\ninclusive µs/call  function');
for (const [l, us] of top(inclusive, 60)) console.log(`${perCall(us)}  ${l}`);
