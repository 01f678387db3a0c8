// Runs N hot-path calls of one side (crmkit or raw) after a warm-up, for instruction counting under
// valgrind (`bench/instructions.sh`): a machine-independent measure when wall and CPU time are noisy.
import Database from 'better-sqlite3';
import { createCrm, silentLogger } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createSqliteStorage } from '../src/index.js';
import { buildLayout } from '../src/table-layout.js';
import { rawAdvancer } from './raw-advance.js';
import { rawPragmas } from './raw-sqlite.js';

const [file, side, what, nArg, stage = 'qualified'] = process.argv.slice(2);
const n = Number(nArg);
const layout = buildLayout(CRM_STORAGE_SCHEMA);
const table = layout.entities.get('deal')!.table.name;
const raw = new Database(file!);
rawPragmas(raw);
const ids = raw.prepare(`SELECT id FROM "${table}" WHERE tenant_id = 'bench' AND stage_key = ? LIMIT ?`).pluck().all(stage, n + 200) as string[];
const crm = await createCrm({ storage: createSqliteStorage({ filename: file! }), tenantId: 'bench', logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 } });
const select = raw.prepare(`SELECT doc FROM "${table}" WHERE tenant_id = ? AND id = ?`).pluck();
const advance = rawAdvancer(raw, layout, 'bench');
const call =
  side === 'crmkit'
    ? what === 'get' ? (id: string) => crm.deals.get(id) : (id: string) => crm.deals.advance(id)
    : what === 'get' ? (id: string) => JSON.parse(select.get('bench', id) as string) : advance;
// Warm-up of both sides (JIT), then the measured calls of one side.
for (const id of ids.slice(n, n + 100)) await crm.deals.get(id);
for (const id of ids.slice(n + 100, n + 200)) JSON.parse(select.get('bench', id) as string);
for (const id of ids.slice(0, n)) await call(id);
await crm.close();
raw.close();
