// review11q: what one shared deal anywhere in the tenant does to a team view's newest-deals list and board.
//   pnpm --filter @crmkit/storage-sqlite exec tsx bench/review11q-share-cost.ts --deals 200000
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createCrm, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import type { Row } from '@crmkit/core/storage';
import { createSqliteStorage } from '../src/index.js';
import { dealRow, OPEN_STAGES, seeded } from './bench-data.js';
import { mean } from './measure.js';

const TENANT = 'bench';
const i = process.argv.indexOf('--deals');
const deals = i >= 0 ? Number(process.argv[i + 1]) : 200_000;
const dir = mkdtempSync(join(tmpdir(), 'r11q-share-'));
const file = join(dir, 'share.db');
const stages = [...OPEN_STAGES.map((key) => ({ key, name: key })), { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];
{
  const storage = createSqliteStorage({ filename: file });
  const crm = await createCrm({ storage, tenantId: TENANT, logger: silentLogger, random: { seed: 11 }, closeStorage: false });
  const ids: string[] = [];
  for (let p = 0; p < 20; p++) ids.push((await crm.pipelines.create({ name: `Pipeline ${p}`, stages })).id);
  const rnd = seeded(5);
  for (let start = 0; start < deals; start += 10_000) {
    await storage.transaction('rw', async (tx) => {
      const rows: Row[] = [];
      for (let j = start; j < Math.min(deals, start + 10_000); j++) {
        const r = rnd();
        const stage = r < 0.4 ? OPEN_STAGES[Math.floor((r / 0.4) * OPEN_STAGES.length)]! : r < 0.7 ? 'won' : 'lost';
        rows.push(dealRow(j, TENANT, ids[j % ids.length]!, stage, rnd));
      }
      await tx.write('deal', TENANT, rows.map((row) => ({ type: 'insert' as const, row })));
    });
  }
  await crm.close();
  await storage.close();
  const db = new Database(file);
  db.exec('ANALYZE');
  db.close();
}
const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: TENANT, logger: silentLogger, features: [access()] });
const pipelineId = (await crm.pipelines.list({ limit: 1 })).items[0]!.id;
const users = Array.from({ length: 50 }, (_, k) => ({ id: `u${k}`, teamIds: [`team${Math.floor(k / 5)}`] }));
await crm.access.setDirectory({ teams: Array.from({ length: 10 }, (_, k) => ({ id: `team${k}` })), users });
await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team', share: 'all' }, pipeline: { read: 'all' } } } }, defaultRoles: ['lead'] });
const view = crm.as({ userId: 'u7' });
async function time(fn: () => Promise<unknown>, n = 100): Promise<number> {
  for (let k = 0; k < 10; k++) await fn();
  const xs: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return mean(xs.slice(n * 0.1, n * 0.9));
}
const measure = async (label: string) => {
  const list = await time(() => view.deals.list({ limit: 50 }));
  const root = await time(() => crm.deals.list({ limit: 50 }));
  const board = await time(() => view.deals.board(pipelineId, { limitPerStage: 50 }), 30);
  const rootBoard = await time(() => crm.deals.board(pipelineId, { limitPerStage: 50 }), 30);
  console.log(`${label}: list view ${list.toFixed(3)} ms / no policy ${root.toFixed(3)} ms = ${(list / root).toFixed(2)}×; board view ${board.toFixed(2)} ms / no policy ${rootBoard.toFixed(2)} ms = ${(board / rootBoard).toFixed(2)}×`);
};
await measure(`${deals} deals, no share`);
const someone = (await crm.deals.list({ limit: 1, where: { op: 'eq', field: 'ownerId', value: 'u40' } })).items[0]!;
await crm.access.share({ type: 'deal', id: someone.id }, { userId: 'u41', access: 'read' });
await measure(`${deals} deals, one deal of another team shared with another user`);
// fix11r: the principal itself has a share (its filter keeps the "shared with me" branch).
await crm.access.share({ type: 'deal', id: someone.id }, { userId: 'u7', access: 'read' });
await measure(`${deals} deals, one deal of another team shared with the view's user`);
await crm.close();
rmSync(dir, { recursive: true, force: true });
