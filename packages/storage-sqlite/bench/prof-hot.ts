// Profiling helper (not part of the bench): node --cpu-prof with tsx on get / advance.
import Database from 'better-sqlite3';
import { createCrm, CRM_STORAGE_SCHEMA, silentLogger } from '@crmkit/core';
import { createSqliteStorage } from '../src/index.js';
import { buildLayout } from '../src/table-layout.js';

const [file, what, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 50000);
const layout = buildLayout(CRM_STORAGE_SCHEMA);
const db = new Database(file!, { readonly: true });
const ids = db.prepare(`SELECT id FROM "${layout.entities.get('deal')!.table.name}" WHERE tenant_id = 'bench' AND stage_key = 'lead' LIMIT ?`).pluck().all(n) as string[];
db.close();
const crm = await createCrm({ storage: createSqliteStorage({ filename: file! }), tenantId: 'bench', logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 } });
const started = performance.now();
if (what === 'get') {
  for (let r = 0; r < 4; r++) for (const id of ids) await crm.deals.get(id);
  console.log('get us/call', ((performance.now() - started) * 1000) / (ids.length * 4));
} else {
  for (const id of ids) await crm.deals.advance(id);
  console.log('advance us/call', ((performance.now() - started) * 1000) / ids.length);
}
await crm.close();
