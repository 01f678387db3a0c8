// Counts the SQL statements one `crm.deals.advance` runs on SQLite (a profiling aid).
//   npx tsx bench/trace-advance.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createCrm, silentLogger } from '@crmkit/core';
import { customFields } from '@crmkit/core/custom-fields';
import { imports } from '@crmkit/core/imports';
import { createSqliteStorage } from '../src/index.js';

const log: string[] = [];
const proto = (Database as unknown as { prototype: { prepare: (sql: string) => unknown } }).prototype;
const prepare = proto.prepare;
proto.prepare = function (this: unknown, text: string) {
  const stmt = prepare.call(this, text) as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['run', 'get', 'all', 'iterate']) {
    const f = stmt[m]!;
    stmt[m] = function (this: unknown, ...args: unknown[]) {
      log.push(`${m}: ${text.slice(0, 400)}`);
      return f.apply(this, args);
    };
  }
  return stmt;
};
const file = join(mkdtempSync(join(tmpdir(), 'crmkit-trace-')), 'trace.db');
const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'bench', logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 }, features: [imports(), customFields()] });
const p = await crm.pipelines.create({ name: 'S', stages: [{ key: 'a', name: 'A', probability: 10 }, { key: 'b', name: 'B', probability: 20 }, { key: 'c', name: 'C', probability: 30 }, { key: 'won', name: 'Won', probability: 100, kind: 'won' }, { key: 'lost', name: 'Lost', probability: 0, kind: 'lost' }] } as never);
const d1 = await crm.deals.create({ title: 'x', pipelineId: p.id, value: { amount: 100, currency: 'EUR' } } as never);
const d2 = await crm.deals.create({ title: 'y', pipelineId: p.id, value: { amount: 100, currency: 'EUR' } } as never);
await crm.deals.advance(d1.id);
log.length = 0;
await crm.deals.advance(d2.id);
console.log(log.join('\n'));
console.log(`${log.length} statements`);
log.length = 0;
await crm.deals.get(d2.id);
console.log(log.join('\n'));
await crm.close();
{
  const crm2 = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'bench', logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 }, features: [imports(), customFields()] });
  await crm2.customFields.define({ entity: 'deal', key: 'region', label: 'Region', type: 'select', options: [{ value: 'north' }], indexed: true } as never);
  const spec = { groupBy: ['custom.region'], metrics: { deals: { fn: 'count' } } } as const;
  await crm2.deals.aggregate(spec as never);
  log.length = 0;
  await crm2.deals.aggregate(spec as never);
  console.log('--- aggregate by custom field\n' + log.join('\n'));
  await crm2.close();
}
{
  // WAL frames (pages) one advance commits: the -wal file's growth over 20 advances.
  const { statSync } = await import('node:fs');
  const crm3 = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'bench', logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 }, features: [imports(), customFields()] });
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push((await crm3.deals.create({ title: `z${i}`, pipelineId: p.id, value: { amount: 100, currency: 'EUR' } } as never)).id);
  const wal = () => statSync(`${file}-wal`).size;
  const side = new Database(file);
  side.pragma('wal_checkpoint(TRUNCATE)');
  side.close();
  const before = wal();
  for (const id of ids) await crm3.deals.advance(id);
  console.log(`--- WAL frames per advance: ${((wal() - before) / (4096 + 24) / ids.length).toFixed(2)}`);
  await crm3.close();
}
