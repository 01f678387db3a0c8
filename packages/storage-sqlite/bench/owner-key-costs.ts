// What owner keys cost on the access bench database (run bench:access once first to build it):
// the full stamp of every deal (the first directory after the upgrade, or reindex), moving one user
// (a tenth of a team's deals) to another team and back, and where a team-scoped list's time goes.
//
//   pnpm --filter @crmkit/storage-sqlite exec tsx bench/owner-key-costs.ts /tmp/crmkit-bench/access-1000000.db
import { createCrm, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { createSqliteStorage } from '../src/index.js';

const file = process.argv[2];
if (!file) throw new Error('usage: owner-key-costs.ts <access bench database>');
const storage = createSqliteStorage({ filename: file });
const crm = await createCrm({ storage, tenantId: 'bench', logger: silentLogger, features: [access()], closeStorage: false });
const keys = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`u${i}`, `team${Math.floor(i / 5)}`]));
const timed = async (name: string, fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  console.log(`${name}: ${((performance.now() - t) / 1000).toFixed(2)} s`);
};
await timed('full stamp of every deal (setOwnerKeys, all)', () => storage.transaction('rw', (tx) => tx.setOwnerKeys!('bench', keys, true)));
await timed('one user (u7) to another team', () => storage.transaction('rw', (tx) => tx.setOwnerKeys!('bench', { u7: 'team9' })));
await timed('and back', () => storage.transaction('rw', (tx) => tx.setOwnerKeys!('bench', { u7: 'team1' })));

// A list's cost, split: the view's own (a role reading every deal) and the team scope's, against no policy.
await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } }, boss: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' } } } }, defaultRoles: ['lead'] });
const team = crm.as({ userId: 'u7' });
const all = crm.as({ userId: 'u7', roles: ['boss'] });
const cases = { 'team view': () => team.deals.list({ limit: 50 }), 'all view': () => all.deals.list({ limit: 50 }), 'no policy': () => crm.deals.list({ limit: 50 }) };
const times: Record<string, number[]> = {};
for (let i = 0; i < 2000; i++) {
  for (const [name, fn] of Object.entries(cases)) {
    const t = performance.now();
    await fn();
    if (i >= 200) (times[name] ??= []).push(performance.now() - t);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [name, xs] of Object.entries(times)) console.log(`list, ${name}: median ${(median(xs) * 1000).toFixed(0)} µs`);
await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } } }, defaultRoles: ['lead'] });
await crm.close();
await storage.close();
