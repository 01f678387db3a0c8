// Times one team-scoped board and list call on the bench database, with the query plans SQLite picks.
import { createCrm, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { createSqliteStorage } from '../src/index.js';
const file = process.argv[2]!;
const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'bench', logger: silentLogger, features: [access()] });
const pipelineId = (await crm.pipelines.list({ limit: 1 })).items[0]!.id;
const view = crm.as({ userId: 'u7' });
for (const [name, fn] of [
  ['list view', () => view.deals.list({ limit: 50 })],
  ['list root', () => crm.deals.list({ limit: 50 })],
  ['board view', () => view.deals.board(pipelineId, { limitPerStage: 50 })],
  ['board root', () => crm.deals.board(pipelineId, { limitPerStage: 50 })],
] as const) {
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await fn();
    console.log(name, (performance.now() - t).toFixed(2), 'ms');
  }
}
await crm.close();
