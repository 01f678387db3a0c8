import pg from 'pg';
import { startPostgresServer } from '@crmkit/test-support/postgres';
import { CRM_STORAGE_SCHEMA, type Row } from '@crmkit/core/storage';
import { createPostgresStorage } from '../src/index.js';
import { compileAggregate } from '../src/aggregate-compiler.js';
import { createPostgresDialect } from '../src/postgres-dialect.js';
import { buildLayout } from '../src/table-layout.js';
const server = await startPostgresServer();
const pool = new pg.Pool({ connectionString: server.url, max: 4 });
try {
  const storage = createPostgresStorage({ pool, schema: 'b' });
  await storage.open(CRM_STORAGE_SCHEMA);
  const regions = ['north', 'south', 'east', 'west', 'central'];
  for (let k = 0; k < 20; k++) {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: `d${k}_${i}`, tenantId: 'bench', version: 1, title: 'x'.repeat(200), createdAt: '2026-01-01T00:00:00.000Z', custom: { region: regions[(i * 7 + k) % 5] } }) as Row);
    await storage.transaction('rw', (tx) => tx.write('deal', 'bench', rows.map((row) => ({ type: 'insert' as const, row }))));
  }
  await pool.query(`ALTER TABLE b.deal ADD COLUMN bench_region text COLLATE "C"`);
  await pool.query(`UPDATE b.deal SET bench_region = doc #>> '{custom,region}'`);
  await pool.query(`CREATE INDEX deal__bench_region ON b.deal (tenant_id, bench_region, id)`);
  await storage.ensureIndexes([{ entity: 'deal', field: 'custom.region', type: 'string' }]);
  await pool.query('VACUUM (ANALYZE) b.deal');
  const layout = buildLayout(CRM_STORAGE_SCHEMA, { schema: 'b' });
  const t = layout.entities.get('deal')!;
  t.runtimeColumns.set('custom.region', { type: 'string', column: 'rt__custom__region__string' });
  const q = compileAggregate({ dialect: createPostgresDialect(), table: t, tenantId: 'bench', customTypes: { 'custom.region': 'string' }, context: 'x' }, { groupBy: ['custom.region'], metrics: { deals: { fn: 'count' } } });
  console.log(q.query.sql);
  const raw = `SELECT bench_region, COUNT(*) FROM b.deal WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1`;
  for (const [name, text, values] of [['crm', q.query.sql, q.query.parameters], ['raw', raw, ['bench']]] as const) {
    for (let i = 0; i < 3; i++) await pool.query(text, values as unknown[]);
    const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values as unknown[]);
    console.log(name, '\n' + plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  }
  const spec = { groupBy: ['custom.region'], metrics: { deals: { fn: 'count' as const } }, customTypes: { 'custom.region': 'string' as const } };
  const ours = () => storage.transaction('r', (tx) => tx.aggregate('deal', 'bench', spec));
  const theirs = () => pool.query(raw, ['bench']);
  const rawQ = () => pool.query(q.query.sql, q.query.parameters as unknown[]);
  const times: Record<string, number[]> = { ours: [], theirs: [], rawQ: [] };
  for (let i = 0; i < 40; i++) for (const [k, f] of Object.entries({ ours, theirs, rawQ })) { const s0 = performance.now(); await f(); times[k]!.push(performance.now() - s0); }
  for (const [k, v] of Object.entries(times)) console.log(k, v.sort((a, b) => a - b)[20]!.toFixed(2), 'ms median');
  await storage.close();
} finally {
  await pool.end();
  await server.stop();
}
