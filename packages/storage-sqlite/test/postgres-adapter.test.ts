import { afterAll, describe, expect, inject, it } from 'vitest';
import { createCrm, isCrmError, silentLogger } from '@crmkit/core';
import { customFields } from '@crmkit/core/custom-fields';
import { CRM_STORAGE_SCHEMA, type Row, type StorageSchema } from '@crmkit/core/storage';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { fixtureRows, SCHEMA_V0 } from './fixtures/schema-v0.js';
import { createPostgresTestBed } from './support/postgres-subjects.js';

describe('createPostgresStorage options', () => {
  it('rejects bad options with VALIDATION, synchronously', () => {
    const pool = { connect: async () => ({}), end: async () => undefined };
    const bad: unknown[] = [
      undefined,
      {},
      { connectionString: '' },
      { connectionString: 'postgres://x', pool },
      { pool: {} },
      { pool, maxConnections: 3 },
      { connectionString: 'postgres://x', maxConnections: 0 },
      { connectionString: 'postgres://x', schema: 'Crm' },
      { connectionString: 'postgres://x', schema: 'x"; DROP SCHEMA public; --' },
      { connectionString: 'postgres://x', schema: 'pg_catalog' },
      { connectionString: 'postgres://x', tablePrefix: '1x' },
      { connectionString: 'postgres://x', other: 1 },
      // The LISTEN connection of 'notify' would leave no connection for transactions.
      { connectionString: 'postgres://x', maxConnections: 1 },
      { connectionString: 'postgres://x', maxConnections: 1, externalChanges: 'notify' },
      { pool: { ...pool, options: { max: 1 } } },
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        createPostgresStorage(options as never);
      } catch (e) {
        error = e;
      }
      expect(isCrmError(error, 'VALIDATION'), JSON.stringify(options)).toBe(true);
    }
    // One connection is enough when nothing LISTENs.
    for (const externalChanges of ['poll', false] as const) createPostgresStorage({ connectionString: 'postgres://x', maxConnections: 1, externalChanges });
    createPostgresStorage({ pool: { ...pool, options: { max: 2 } } as never });
  });
});

const url = inject('postgresUrl');

describe('postgres adapter specifics', () => {
  const bed = createPostgresTestBed(url);
  afterAll(() => bed?.end());

  it('owns a pool made from a connection string (ended on close) but never a pool it was given', async () => {
    const schema = bed!.schemaName('own');
    try {
      const owned = createPostgresStorage({ connectionString: url, schema, maxConnections: 2 });
      await owned.open(CRM_STORAGE_SCHEMA);
      await owned.close();
      await owned.close();
      const given = createPostgresStorage({ pool: bed!.pool, schema });
      await given.open(CRM_STORAGE_SCHEMA);
      await given.close();
      expect((await bed!.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await bed!.dropSchema(schema);
    }
  });

  it('creates its schema, text columns with COLLATE "C", numbers as double precision and the document as jsonb', async () => {
    const schema = bed!.schemaName('ddl');
    try {
      const storage = createPostgresStorage({ pool: bed!.pool, schema });
      await storage.open(CRM_STORAGE_SCHEMA);
      const { rows } = await bed!.pool.query(
        `SELECT column_name, data_type, collation_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'deal' AND column_name IN ('title', 'value__amount', 'probability_manual', 'doc') ORDER BY column_name`,
        [schema],
      );
      expect(rows).toEqual([
        { column_name: 'doc', data_type: 'jsonb', collation_name: null },
        { column_name: 'probability_manual', data_type: 'boolean', collation_name: null },
        { column_name: 'title', data_type: 'text', collation_name: 'C' },
        { column_name: 'value__amount', data_type: 'double precision', collation_name: null },
      ]);
      await storage.close();
    } finally {
      await bed!.dropSchema(schema);
    }
  });

  it('orders text by code point whatever the server collation, and refuses NUL characters with VALIDATION, as every adapter does (PostgreSQL cannot store them)', async () => {
    const schema = bed!.schemaName('text');
    try {
      const storage = createPostgresStorage({ pool: bed!.pool, schema });
      await storage.open(CRM_STORAGE_SCHEMA);
      const titles = ['b', 'B', 'a', 'é', 'Z', '🙂', '\uFFFF', 'ab', ''];
      const rows = titles.map((title, i) => ({ id: `d${i}`, tenantId: 't', version: 1, title, custom: { t: title } }) as Row);
      await storage.transaction('rw', (tx) => tx.write('deal', 't', rows.map((row) => ({ type: 'insert' as const, row }))));
      const expected = [...titles].sort((x, y) => {
        const a = Array.from(x, (c) => c.codePointAt(0)!);
        const b = Array.from(y, (c) => c.codePointAt(0)!);
        for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
        return a.length - b.length;
      });
      for (const field of ['title', 'custom.t']) {
        const { rows: sorted } = await storage.transaction('r', (tx) => tx.query('deal', 't', { sort: [{ field }], customTypes: { 'custom.t': 'string' } }));
        expect(sorted.map((r) => r.title)).toEqual(expected);
      }
      const error = await storage.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: { id: 'nul', tenantId: 't', version: 1, title: 'a\u0000b' } }])).catch((e: unknown) => e);
      expect(isCrmError(error, 'VALIDATION') && error.details.issues[0]!.path).toEqual(['title']);
      await storage.close();
    } finally {
      await bed!.dropSchema(schema);
    }
  });

  it('migrates tables made by an earlier schema version: new columns and list tables are filled from the documents', async () => {
    const schema = bed!.schemaName('mig');
    try {
      const v0 = createPostgresStorage({ pool: bed!.pool, schema });
      await v0.open(SCHEMA_V0);
      const rows = fixtureRows();
      for (const [entity, list] of Object.entries(rows)) {
        for (const tenantId of new Set(list.map((r) => r.tenantId))) {
          await v0.transaction('rw', (tx) => tx.write(entity, tenantId, list.filter((r) => r.tenantId === tenantId).map((row) => ({ type: 'insert' as const, row }))));
        }
      }
      await v0.close();

      const v1 = createPostgresStorage({ pool: bed!.pool, schema });
      await v1.open(CRM_STORAGE_SCHEMA);
      const deals = rows.deal!.filter((d) => d.tenantId === 'acme');
      const stored = await v1.transaction('r', (tx) => tx.query('deal', 'acme', { sort: [{ field: 'id' }] }));
      expect(stored.rows).toEqual([...deals].sort((a, b) => (a.id < b.id ? -1 : 1)));
      const weighted = await v1.transaction('r', (tx) => tx.query('deal', 'acme', { filter: { op: 'gt', field: 'weightedValue.amount', value: 3000 }, sort: [{ field: 'id' }] }));
      expect(weighted.rows.map((r) => r.id)).toEqual(deals.filter((d) => (d.weightedValue as { amount: number }).amount > 3000).map((d) => d.id));
      const manual = await v1.transaction('r', (tx) => tx.query('deal', 'acme', { filter: { op: 'eq', field: 'probabilityManual', value: true } }));
      expect(manual.rows.map((r) => r.id)).toEqual(['deal_05']);
      const tagged = await v1.transaction('r', (tx) => tx.query('deal', 'acme', { filter: { op: 'containsAny', field: 'tags', values: ['retail'] }, sort: [{ field: 'id' }] }));
      expect(tagged.rows.map((r) => r.id)).toEqual(deals.filter((d) => (d.tags as string[]).includes('retail')).map((d) => d.id));
      const log = await bed!.pool.query(`SELECT schema_version FROM "${schema}".crmkit_migrations ORDER BY seq`);
      expect(log.rows.map((r: { schema_version: number }) => r.schema_version)).toEqual([0, CRM_STORAGE_SCHEMA.version]);
      await v1.close();

      const newer = createPostgresStorage({ pool: bed!.pool, schema });
      const error = await newer.open({ ...CRM_STORAGE_SCHEMA, version: -1 }).catch((e: unknown) => e);
      expect(isCrmError(error, 'STORAGE') && error.details.retryable).toBe(false);
    } finally {
      await bed!.dropSchema(schema);
    }
  });

  it('schema 12 → 13: syncChange loses its tx/tomb indexes, tombstones get a partial index that prune\'s query uses; old rows stay', async () => {
    const schema = bed!.schemaName('sync13');
    const v12: StorageSchema = {
      version: 12,
      entities: CRM_STORAGE_SCHEMA.entities.map((e) => (e.name === 'syncChange' ? { ...e, fields: { updatedAt: 'string', position: 'number', txPosition: 'number', entity: 'string', recordId: 'string', deleted: 'boolean' }, indexes: [{ name: 'position', fields: ['position'] }, { name: 'tx', fields: ['txPosition', 'position'] }, { name: 'tomb', fields: ['deleted', 'updatedAt'] }] } : e)),
    };
    const row = (id: string, position: number, extra: Record<string, unknown>) => ({ id, tenantId: 'acme', version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', position, txPosition: position, entity: 'deal', recordId: id.slice(5), ...extra });
    try {
      const old = createPostgresStorage({ pool: bed!.pool, schema });
      await old.open(v12);
      await old.transaction('rw', (tx) => tx.write('syncChange', 'acme', [{ type: 'insert', row: row('deal:d_1', 1, { deleted: false }) }, { type: 'insert', row: row('deal:d_2', 2, { deleted: true }) }]));
      await old.close();
      const next = createPostgresStorage({ pool: bed!.pool, schema });
      await next.open(CRM_STORAGE_SCHEMA);
      await next.transaction('rw', (tx) => tx.write('syncChange', 'acme', [{ type: 'insert', row: row('deal:d_3', 3, {}) }, { type: 'insert', row: row('deal:d_4', 4, { deleted: true }) }]));
      const tombs = await next.transaction('r', (tx) => tx.query('syncChange', 'acme', { filter: { op: 'and', filters: [{ op: 'eq', field: 'deleted', value: true }, { op: 'lt', field: 'updatedAt', value: '2027' }] }, sort: [{ field: 'updatedAt' }, { field: 'id' }] }));
      expect(tombs.rows.map((r) => r.id)).toEqual(['deal:d_2', 'deal:d_4']);
      const byPosition = await next.transaction('r', (tx) => tx.query('syncChange', 'acme', { filter: { op: 'gt', field: 'position', value: 0 }, sort: [{ field: 'position' }] }));
      expect(byPosition.rows.map((r) => r.id)).toEqual(['deal:d_1', 'deal:d_2', 'deal:d_3', 'deal:d_4']);
      await next.close();
      const { rows } = await bed!.pool.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'sync_change'`, [schema]);
      const defs = Object.fromEntries(rows.map((r: { indexname: string; indexdef: string }) => [r.indexname, r.indexdef]));
      expect(Object.keys(defs).filter((n) => /__(tx|tomb)$/.test(n))).toEqual([]);
      expect(defs['sync_change__tombstone']).toMatch(/WHERE \(?deleted IS NOT NULL\)?/);
      const client = await bed!.pool.connect();
      try {
        // Four rows: without these the planner may scan any index and sort; with them only a usable ordered index serves.
        await client.query('SET enable_seqscan = off; SET enable_sort = off');
        const plan = await client.query(`EXPLAIN SELECT * FROM "${schema}".sync_change WHERE tenant_id = $1 AND deleted = $2 AND updated_at < $3 ORDER BY updated_at NULLS FIRST, id LIMIT 500`, ['acme', true, '2027']);
        expect(plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')).toMatch(/sync_change__tombstone/);
      } finally {
        await client.query('RESET enable_seqscan; RESET enable_sort');
        client.release();
      }
    } finally {
      await bed!.dropSchema(schema);
    }
  });

  it('leads every table and index with the tenant (for sharding by tenant, docs/scaling.md); only the bookkeeping tables are global', async () => {
    const schema = bed.schemaName('tenantled');
    const storage = createPostgresStorage({ pool: bed.pool, schema });
    try {
      await storage.open(CRM_STORAGE_SCHEMA);
      await storage.ensureIndexes([{ entity: 'deal', field: 'custom.region', type: 'string' }]);
      const { rows } = await bed.pool.query(
        `SELECT t.relname AS table, i.relname AS index, a.attname AS first
           FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
          WHERE n.nspname = $1`,
        [schema],
      );
      const offenders = (rows as { table: string; index: string; first: string | null }[]).filter((r) => !['crmkit_meta', 'crmkit_migrations'].includes(r.table) && r.first !== 'tenant_id');
      expect(offenders).toEqual([]);
      expect((rows as { index: string }[]).map((r) => r.index)).toContain('deal__rt__custom__region__string');
    } finally {
      await storage.close();
      await bed.dropSchema(schema);
    }
  });

  it('crm.deals.aggregate (by an indexed custom field too) sends one statement: no BEGIN, COMMIT or configuration read (review 12j #2)', async () => {
    const schema = bed.schemaName('aggone');
    const sent: string[] = [];
    // The test bed's pool, recording the statements crmkit sends.
    const pool = {
      end: async () => undefined,
      connect: async () => {
        const client = await bed.pool.connect();
        const query = client.query.bind(client) as (config: unknown) => Promise<unknown>;
        return Object.assign(Object.create(client) as object, {
          query: (config: { text: string }) => (sent.push(config.text), query(config)),
          release: (destroy?: boolean) => client.release(destroy),
        });
      },
    };
    const crm = await createCrm({ storage: createPostgresStorage({ pool: pool as never, schema, externalChanges: false }), tenantId: 't', logger: silentLogger, features: [customFields()] });
    try {
      await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
      await crm.customFields.define({ entity: 'deal', key: 'region', label: 'Region', type: 'text', indexed: true });
      for (const region of ['north', 'south', 'north']) await crm.deals.create({ title: region, custom: { region } });
      sent.length = 0;
      const rows = await crm.deals.aggregate({ groupBy: ['custom.region'], metrics: { n: { fn: 'count' } } });
      expect(rows).toEqual([{ group: { 'custom.region': 'north' }, values: { n: 2 } }, { group: { 'custom.region': 'south' }, values: { n: 1 } }]);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^SELECT .*GROUP BY/s);
      sent.length = 0;
      await crm.deals.aggregate({ groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } });
      expect(sent).toHaveLength(1);
    } finally {
      await crm.close();
      await bed.dropSchema(schema);
    }
  });

  it('serves an indexed custom field from a STORED generated column and its plain index: index-only aggregates, seen by adapters opened later, one column per type', async () => {
    const schema = bed.schemaName('rtcolumn');
    const storage = createPostgresStorage({ pool: bed.pool, schema });
    let later: ReturnType<typeof createPostgresStorage> | undefined;
    const columns = async () =>
      (await bed.pool.query(`SELECT column_name, data_type, is_generated FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'deal' AND column_name LIKE 'rt\\_%' ORDER BY 1`, [schema])).rows;
    const indexes = async () => (await bed.pool.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%\\_\\_rt\\_\\_%' ORDER BY 1`, [schema])).rows.map((r: { indexname: string }) => r.indexname);
    try {
      await storage.open(CRM_STORAGE_SCHEMA);
      const rows = Array.from({ length: 40 }, (_, i) => ({ id: `d${i}`, tenantId: 't', version: 1, custom: i % 5 ? { region: ['north', 'south'][i % 2] } : {} }) as Row);
      await storage.transaction('rw', (tx) => tx.write('deal', 't', rows.map((row) => ({ type: 'insert' as const, row }))));
      await storage.ensureIndexes([{ entity: 'deal', field: 'custom.region', type: 'string' }]);
      expect(await columns()).toEqual([{ column_name: 'rt__custom__region__string', data_type: 'text', is_generated: 'ALWAYS' }]);
      expect(await indexes()).toEqual(['deal__rt__custom__region__string']);
      // Rows written before and after hold the field's typed value, computed by the server.
      await storage.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: { id: 'late', tenantId: 't', version: 1, custom: { region: 'east' } } as Row }]));
      const stored = await bed.pool.query(`SELECT id, rt__custom__region__string AS v FROM "${schema}".deal WHERE id IN ('d1', 'd5', 'late') ORDER BY id`);
      expect(stored.rows).toEqual([{ id: 'd1', v: 'south' }, { id: 'd5', v: null }, { id: 'late', v: 'east' }]);
      const spec = { groupBy: ['custom.region'], metrics: { n: { fn: 'count' as const } }, customTypes: { 'custom.region': 'string' as const } };
      const expected = [
        { group: { 'custom.region': null }, values: { n: 8 } },
        { group: { 'custom.region': 'east' }, values: { n: 1 } },
        { group: { 'custom.region': 'north' }, values: { n: 16 } },
        { group: { 'custom.region': 'south' }, values: { n: 16 } },
      ];
      expect(await storage.transaction('r', (tx) => tx.aggregate('deal', 't', spec))).toEqual(expected);
      // An adapter opened later reads the column too (the registry in crmkit_meta): its grouped count is index-only.
      later = createPostgresStorage({ pool: bed.pool, schema });
      await later.open(CRM_STORAGE_SCHEMA);
      expect(await later.transaction('r', (tx) => tx.aggregate('deal', 't', spec))).toEqual(expected);
      await bed.pool.query(`VACUUM (ANALYZE) "${schema}".deal`);
      const client = await bed.pool.connect();
      try {
        await client.query('SET enable_seqscan = off');
        const plan = (await client.query(`EXPLAIN SELECT rt__custom__region__string, COUNT(*) FROM "${schema}".deal AS t WHERE tenant_id = 't' GROUP BY 1`)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain('Index Only Scan using deal__rt__custom__region__string');
      } finally {
        client.release();
      }
      // Redefined as a number (or the same key as a number in another tenant): a column and index of its own.
      await later.ensureIndexes([{ entity: 'deal', field: 'custom.region', type: 'number' }]);
      expect((await columns()).map((c: { column_name: string; data_type: string }) => [c.column_name, c.data_type])).toEqual([
        ['rt__custom__region__number', 'double precision'],
        ['rt__custom__region__string', 'text'],
      ]);
      expect(await indexes()).toEqual(['deal__rt__custom__region__number', 'deal__rt__custom__region__string']);
      expect(await storage.transaction('r', (tx) => tx.aggregate('deal', 't', spec))).toEqual(expected); // the text one still serves
      await later.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: { id: 'num', tenantId: 't', version: 1, custom: { region: 7 } } as Row }]));
      const numeric = await later.transaction('r', (tx) => tx.query('deal', 't', { filter: { op: 'gte', field: 'custom.region', value: 1 }, customTypes: { 'custom.region': 'number' } }));
      expect(numeric.rows.map((r) => r.id)).toEqual(['num']);
    } finally {
      await later?.close();
      await storage.close();
      await bed.dropSchema(schema);
    }
  });
});
