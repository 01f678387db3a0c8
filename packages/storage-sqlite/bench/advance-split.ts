// Where the time of `crm.deals.advance` goes next to the raw baseline (bench/raw-advance.ts), a
// profiling aid for issue 17: both sides advance deals interleaved call by call on one file, every
// SQL statement is timed (CPU and wall) per side, and the rest of each call is its JavaScript.
// CPU figures do not move with the machine's load the way wall figures do.
//
//   npx tsx bench/advance-split.ts FILE [CALLS]
//
// FILE: a database with deals in the first open stage, e.g. a copy of the `import-0.db` that
// `pnpm bench -- --engines sqlite --work DIR --only import` leaves in DIR (it advances them: use a copy).
import Database from 'better-sqlite3';
import { createCrm, silentLogger } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { imports } from '@crmkit/core/imports';
import { customFields } from '@crmkit/core/custom-fields';
import { createSqliteStorage } from '../src/index.js';
import { buildLayout } from '../src/table-layout.js';
import { OPEN_STAGES } from './bench-data.js';
import { cpuMs } from './measure.js';
import { rawAdvancer } from './raw-advance.js';
import { rawPragmas } from './raw-sqlite.js';

type Side = 'crm' | 'raw';
let side: Side = 'raw';
const cpu = new Map<string, number>();
const wall = new Map<string, number>();
const commits: Record<Side, number[]> = { crm: [], raw: [] };

/** Times `fn` under the statement's text for the current side. */
function timed<T>(text: string, fn: () => T): T {
  const c = cpuMs();
  const w = performance.now();
  try {
    return fn();
  } finally {
    const key = `${side} ${text.replace(/\s+/g, ' ').slice(0, 70)}`;
    const ms = performance.now() - w;
    cpu.set(key, (cpu.get(key) ?? 0) + cpuMs() - c);
    wall.set(key, (wall.get(key) ?? 0) + ms);
    if (/^COMMIT$/.test(text)) commits[side].push(ms);
  }
}

const proto = (Database as unknown as { prototype: { prepare: (sql: string) => unknown; exec: (sql: string) => unknown } }).prototype;
const prepare = proto.prepare;
proto.prepare = function (this: unknown, text: string) {
  const statement = prepare.call(this, text) as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ['run', 'get', 'all']) {
    const original = statement[method]!;
    statement[method] = function (this: unknown, ...args: unknown[]) {
      return timed(text, () => original.apply(this, args));
    };
  }
  return statement;
};
const exec = proto.exec;
proto.exec = function (this: unknown, text: string) {
  return timed(text, () => exec.call(this, text));
};

const file = process.argv[2];
if (!file) throw new Error('usage: npx tsx bench/advance-split.ts FILE [CALLS]');
const n = Number(process.argv[3] ?? 1000);
const TENANT = 'bench';
const raw = new Database(file);
rawPragmas(raw);
const ids = raw.prepare(`SELECT id FROM "deal" WHERE tenant_id = ? AND stage_key = ? ORDER BY rowid LIMIT ?`).pluck().all(TENANT, OPEN_STAGES[0], 2 * n) as string[];
if (ids.length < 2 * n) throw new Error(`${file} has ${ids.length} deals in ${OPEN_STAGES[0]}; ${2 * n} needed`);
const rawAdvance = rawAdvancer(raw, buildLayout(CRM_STORAGE_SCHEMA, { adapter: 'sqlite' }), TENANT);
const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: TENANT, logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 }, features: [imports(), customFields()] });
raw.pragma('wal_checkpoint(TRUNCATE)');
cpu.clear();
wall.clear();
const total = { crm: { cpu: 0, wall: 0 }, raw: { cpu: 0, wall: 0 } };
const ours = async (id: string) => {
  side = 'crm';
  const c = cpuMs();
  const w = performance.now();
  await crm.deals.advance(id);
  total.crm.cpu += cpuMs() - c;
  total.crm.wall += performance.now() - w;
};
const theirs = (id: string) => {
  side = 'raw';
  const c = cpuMs();
  const w = performance.now();
  rawAdvance(id);
  total.raw.cpu += cpuMs() - c;
  total.raw.wall += performance.now() - w;
};
// Who goes first alternates, as in run-bench.ts (a commit crossing the WAL's checkpoint threshold pays for it).
for (let i = 0; i < n; i++) {
  if (i % 2 === 0) {
    await ours(ids[i]!);
    theirs(ids[n + i]!);
  } else {
    theirs(ids[n + i]!);
    await ours(ids[i]!);
  }
}
await crm.close();
raw.close();

const us = (ms: number) => ((ms / n) * 1000).toFixed(0).padStart(6);
console.log('µs per call: CPU, wall, statement');
const sums = { crm: { cpu: 0, wall: 0 }, raw: { cpu: 0, wall: 0 } };
for (const [key, ms] of [...cpu].sort(([a], [b]) => a.localeCompare(b))) {
  const s = key.startsWith('crm') ? sums.crm : sums.raw;
  s.cpu += ms;
  s.wall += wall.get(key)!;
  console.log(us(ms), us(wall.get(key)!), key);
}
for (const s of ['crm', 'raw'] as const) {
  console.log(`${s}: CPU ${us(total[s].cpu)} (statements ${us(sums[s].cpu)}, JavaScript ${us(total[s].cpu - sums[s].cpu)}); wall ${us(total[s].wall)} (statements ${us(sums[s].wall)}, JavaScript ${us(total[s].wall - sums[s].wall)})`);
  const sorted = [...commits[s]].sort((a, b) => a - b);
  const slow = sorted.filter((ms) => ms > 10);
  console.log(`  COMMIT: median ${sorted[sorted.length >> 1]?.toFixed(2)} ms, ${slow.length} over 10 ms (checkpoints) taking ${slow.reduce((a, b) => a + b, 0).toFixed(0)} ms of ${sorted.reduce((a, b) => a + b, 0).toFixed(0)} ms`);
}
console.log(`ratio crm/raw: CPU ${(total.crm.cpu / total.raw.cpu).toFixed(3)}, wall ${(total.crm.wall / total.raw.wall).toFixed(3)}`);
