// Quick A/B of the hot paths in CPU time (steadier than wall time on a shared machine): blocks of calls
// through crmkit and through the hand-written baseline, alternating; prints the median block of each.
//
//   npx tsx bench/cpu-ab.ts /dev/shm/copy.db get|advance [blocks] [perBlock] [stage]
//
// Takes a database made by `pnpm bench -- --work DIR` (tenant "bench"); it is changed (advances).
import Database from 'better-sqlite3';
import { createCrm, silentLogger } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createSqliteStorage } from '../src/index.js';
import { buildLayout } from '../src/table-layout.js';
import { rawAdvancer } from './raw-advance.js';
import { rawPragmas } from './raw-sqlite.js';

const [file, what = 'get', blocksArg = '20', perArg = '100', stage = 'qualified'] = process.argv.slice(2);
const blocks = Number(blocksArg);
const per = Number(perArg);
const layout = buildLayout(CRM_STORAGE_SCHEMA);
const table = layout.entities.get('deal')!.table.name;
const raw = new Database(file!);
rawPragmas(raw);
const ids = raw.prepare(`SELECT id FROM "${table}" WHERE tenant_id = 'bench' AND stage_key = ? LIMIT ?`).pluck().all(stage, blocks * per * 2) as string[];
if (ids.length < blocks * per * 2) throw new Error(`only ${ids.length} deals in stage ${stage}`);
const crm = await createCrm({ storage: createSqliteStorage({ filename: file! }), tenantId: 'bench', logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 } });
const select = raw.prepare(`SELECT doc FROM "${table}" WHERE tenant_id = ? AND id = ?`).pluck();
const advance = rawAdvancer(raw, layout, 'bench');
const ours = what === 'get' ? (id: string) => crm.deals.get(id) : (id: string) => crm.deals.advance(id);
const theirs = what === 'get' ? (id: string) => JSON.parse(select.get('bench', id) as string) : advance;
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const a: number[] = [];
const b: number[] = [];
for (let k = 0; k < blocks; k++) {
  let t = cpu();
  for (let i = 0; i < per; i++) await ours(ids[2 * (k * per + i)]!);
  a.push((cpu() - t) / per);
  t = cpu();
  for (let i = 0; i < per; i++) theirs(ids[2 * (k * per + i) + 1]!);
  b.push((cpu() - t) / per);
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
console.log(`${what}: crmkit ${median(a).toFixed(1)} µs CPU/call, raw ${median(b).toFixed(1)} µs, ratio ${(median(a) / median(b)).toFixed(3)} (min ${(Math.min(...a) / Math.min(...b)).toFixed(3)})`);
await crm.close();
raw.close();
