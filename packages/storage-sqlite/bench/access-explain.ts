// The plans behind bench:access's deal list: the SQL a team-scoped view and the crm without a policy
// generate, with EXPLAIN QUERY PLAN run on the real parameter values (SQLite is built with STAT4, so
// a plan explained with NULL parameters can differ from the one a query gets).
//
//   pnpm --filter @crmkit/storage-sqlite exec tsx bench/access-explain.ts /tmp/crmkit-bench-access/access-1000000.db
import Database from 'better-sqlite3';
import { createCrm, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { createSqliteStorage } from '../src/index.js';

const file = process.argv[2];
if (!file) throw new Error('usage: access-explain.ts <database made by bench:access>');
const db = new Database(file);
const seen: string[] = [];
const prepare = db.prepare.bind(db);
// Records the deal pages the crm prepares (their text only: parameters are bound later).
db.prepare = ((source: string) => {
  if (source.includes('FROM "deal"') && source.includes('LIMIT')) seen.push(source);
  return prepare(source);
}) as typeof db.prepare;
const crm = await createCrm({ storage: createSqliteStorage({ database: db }), tenantId: 'bench', logger: silentLogger, features: [access()], closeStorage: false });
const users = Array.from({ length: 50 }, (_, i) => ({ id: `u${i}`, teamIds: [`team${Math.floor(i / 5)}`] }));
await crm.access.setDirectory({ teams: Array.from({ length: 10 }, (_, i) => ({ id: `team${i}` })), users });
await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } } }, defaultRoles: ['lead'] });
const team = ['u5', 'u6', 'u7', 'u8', 'u9'];
for (const [name, run, params] of [
  ['view (team scope)', () => crm.as({ userId: 'u7' }).deals.list({ limit: 50 }), ['bench', ...team]],
  ['crm (no policy)', () => crm.deals.list({ limit: 50 }), ['bench']],
] as const) {
  seen.length = 0;
  await run();
  for (const source of seen) {
    const plan = prepare(`EXPLAIN QUERY PLAN ${source}`).all(...params) as { detail: string }[];
    console.log(`--- ${name}\n${source}\n${plan.map((p) => `  ${p.detail}`).join('\n')}`);
  }
}
await crm.close();
db.close();
