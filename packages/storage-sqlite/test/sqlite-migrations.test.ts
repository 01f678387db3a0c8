import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createCrm, isCrmError, silentLogger, type StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, type Row, type StorageSchema } from '@crmkit/core/storage';
import { merges } from '@crmkit/core/merges';
import { access } from '@crmkit/core/access';
import { createSqliteStorage, LAYOUT_VERSION } from '@crmkit/storage-sqlite';
import { fixtureRows, SCHEMA_V0 } from './fixtures/schema-v0.js';
import { tempDir } from './support/temp-dir.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/crm-v0.sqlite', import.meta.url));

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A copy of the committed v0 fixture in a temp dir: the fixture itself is never opened for writing. */
function fixtureCopy(): string {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const file = tmp.file('crm.db');
  copyFileSync(FIXTURE, file);
  return file;
}

async function opened(filename: string, schema: StorageSchema = CRM_STORAGE_SCHEMA): Promise<StorageAdapter> {
  const storage = createSqliteStorage({ filename });
  cleanups.push(() => storage.close());
  await storage.open(schema);
  return storage;
}

const ids = (rows: readonly Row[]) => rows.map((r) => r.id);

function migrationLog(filename: string): { seq: number; schema_version: number; actions: string }[] {
  const db = new Database(filename, { readonly: true });
  try {
    return db.prepare('SELECT seq, schema_version, actions FROM crmkit_migrations ORDER BY seq').all() as { seq: number; schema_version: number; actions: string }[];
  } finally {
    db.close();
  }
}

describe('sqlite migrations', () => {
  it('migrates a database made by an earlier schema version without losing data', async () => {
    const file = fixtureCopy();
    const expected = fixtureRows();
    const storage = await opened(file);

    // Every row of every tenant survived, byte for byte.
    for (const [entity, rows] of Object.entries(expected)) {
      for (const tenantId of new Set(rows.map((r) => r.tenantId))) {
        const mine = rows.filter((r) => r.tenantId === tenantId).sort((a, b) => (a.id < b.id ? -1 : 1));
        const stored = await storage.transaction('r', (tx) => tx.query(entity, tenantId, { sort: [{ field: 'id' }] }));
        expect(stored.rows).toEqual(mine);
      }
    }

    const deals = expected.deal!.filter((d) => d.tenantId === 'acme');
    const amount = (d: Row) => (d.weightedValue as { amount: number }).amount;
    await storage.transaction('r', async (tx) => {
      // New columns were filled from the stored documents, so old rows are filterable and sortable at once.
      const weighted = await tx.query('deal', 'acme', { filter: { op: 'gt', field: 'weightedValue.amount', value: 3000 }, sort: [{ field: 'id' }] });
      expect(ids(weighted.rows)).toEqual(ids(deals.filter((d) => amount(d) > 3000)));
      const rotting = await tx.query('deal', 'acme', { filter: { op: 'eq', field: 'rottingSince', value: null }, sort: [{ field: 'id' }] });
      expect(rotting.rows.length).toBe(deals.length - 1);
      const closed = await tx.query('deal', 'acme', { filter: { op: 'prefix', field: 'closedAt', value: '2025-06' }, sort: [{ field: 'closedAt', direction: 'desc' }] });
      expect(ids(closed.rows)).toEqual(ids(deals.filter((d) => d.closedAt).sort((a, b) => (a.closedAt! < b.closedAt! ? 1 : -1))));
      // A new list field got its side table, filled from the documents.
      const vip = await tx.query('deal', 'acme', { filter: { op: 'containsAny', field: 'tags', values: ['vip', 'retail'] }, sort: [{ field: 'id' }] });
      expect(ids(vip.rows)).toEqual(ids(deals.filter((d) => (d.tags as string[]).some((t) => t === 'vip' || t === 'retail'))));
      // An existing list field kept working.
      const refs = await tx.query('event', 'acme', { filter: { op: 'containsAny', field: 'refs', values: ['deal:deal_02'] } });
      expect(ids(refs.rows)).toEqual(['evt_2']);
      const totals = await tx.aggregate('deal', 'acme', { groupBy: ['stageKey'], metrics: { n: { fn: 'count' }, weighted: { fn: 'sum', field: 'weightedValue.amount' } } });
      expect(totals.map((g) => [g.group.stageKey, g.values.n])).toEqual([['lost', 3], ['new', 3], ['proposal', 3], ['won', 3]]);
    });

    // New entities are usable.
    const task = { id: 'task_1', tenantId: 'acme', version: 1, createdAt: 'x', updatedAt: 'x', subject: 'Call', status: 'open', ownerId: 'u1', dueAt: '2026-01-01' } as Row;
    await storage.transaction('rw', (tx) => tx.write('task', 'acme', [{ type: 'insert', row: task }]));
    const agenda = await storage.transaction('r', (tx) => tx.query('task', 'acme', { filter: { op: 'and', filters: [{ op: 'eq', field: 'ownerId', value: 'u1' }, { op: 'eq', field: 'status', value: 'open' }] } }));
    expect(agenda.rows).toEqual([task]);

    // The log records the original creation (v0) and this migration (0 → 1) with what it did.
    const log = migrationLog(file);
    expect(log.map((l) => [l.seq, l.schema_version])).toEqual([[1, 0], [2, CRM_STORAGE_SCHEMA.version]]);
    const actions = JSON.parse(log[1]!.actions) as { from: number; to: number; actions: string[] };
    expect(actions.from).toBe(0);
    expect(actions.actions).toEqual(expect.arrayContaining(['add column deal.weighted_value__amount', 'create table task', 'fill list table deal__tags', 'create table stage_visit']));
  });

  it('is idempotent: reopening a migrated database changes and logs nothing', async () => {
    const file = fixtureCopy();
    const first = await opened(file);
    await first.close();
    const second = await opened(file);
    await second.open(CRM_STORAGE_SCHEMA);
    expect(migrationLog(file).length).toBe(2);
  });

  it('serves the full crm on a migrated database', async () => {
    const file = fixtureCopy();
    const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'acme', logger: silentLogger });
    cleanups.push(() => crm.close());
    const board = await crm.deals.board('pl_sales');
    expect(board.columns.map((c) => [c.stage.key, c.count, c.deals.length])).toEqual([['new', 3, 3], ['proposal', 3, 3]]);
    const deal = await crm.deals.get('deal_01');
    expect(deal.title).toContain('Deal 1');
  });

  it('a database of schema 7 (before external refs) gets the unique external keys: old rows stay, refs are unique per tenant', async () => {
    const v7: StorageSchema = {
      version: 7,
      entities: CRM_STORAGE_SCHEMA.entities.map(({ unique: _unique, ...e }) => ({
        ...e,
        fields: Object.fromEntries(Object.entries(e.fields).filter(([f]) => f !== 'externalKeys')),
        indexes: e.indexes.filter((i) => i.name !== 'externalKeys'),
      })),
    };
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = tmp.file('v7.db');
    const old = await opened(file, v7);
    const contact = (id: string, extra: Record<string, unknown> = {}) => ({ id, tenantId: 'acme', version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', name: id, ...extra });
    await old.transaction('rw', (tx) => tx.write('contact', 'acme', [{ type: 'insert', row: contact('c_old') }]));
    await old.close();
    const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'acme', logger: silentLogger });
    cleanups.push(() => crm.close());
    expect((await crm.contacts.get('c_old')).name).toBe('c_old');
    const updated = await crm.contacts.upsertByExternalRef('shop', '10042', { name: 'Ada' });
    expect(updated.outcome).toBe('created');
    await crm.contacts.update('c_old', { externalRefs: [{ system: 'erp', id: '7' }] });
    expect((await crm.contacts.getByExternalRef('erp', '7')).id).toBe('c_old');
    const error = await crm.contacts.create({ name: 'Twin', externalRefs: [{ system: 'shop', id: '10042' }] }).catch((e: unknown) => e);
    expect(isCrmError(error, 'CONFLICT')).toBe(true);
    expect(migrationLog(file).at(-1)).toMatchObject({ schema_version: CRM_STORAGE_SCHEMA.version });
    expect(JSON.parse(migrationLog(file).at(-1)!.actions).actions).toContain('fill list table contact__external_keys');
  });

  it('a database of schema 8 (before the merge log) gets the merge log and the link indexes; old rows merge and unmerge', async () => {
    const v8: StorageSchema = {
      version: 8,
      entities: CRM_STORAGE_SCHEMA.entities
        .filter((e) => e.name !== 'merge')
        .map((e) => ({ ...e, indexes: e.indexes.filter((i) => !(e.name === 'deal' && i.name === 'lead') && !(e.name === 'lead' && i.name === 'convertedCompany')) })),
    };
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = tmp.file('v8.db');
    const old = await opened(file, v8);
    const row = (id: string, extra: Record<string, unknown>) => ({ id, tenantId: 'acme', version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', tags: [], custom: {}, searchKeys: [], ...extra });
    await old.transaction('rw', async (tx) => {
      await tx.write('contact', 'acme', [{ type: 'insert', row: row('c_keep', { name: 'Ada' }) }, { type: 'insert', row: row('c_dup', { name: 'Ada L.', phone: '+4420' }) }]);
      await tx.write('deal', 'acme', [{ type: 'insert', row: row('d_1', { title: 'Engine', contactId: 'c_dup', pipelineId: 'p', stageKey: 'new', status: 'open' }) }]);
    });
    await old.close();
    const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'acme', logger: silentLogger, features: [merges()] });
    cleanups.push(() => crm.close());
    const { survivor, merge } = await crm.merges.contacts('c_keep', ['c_dup'], { fillEmpty: true });
    expect(survivor.phone).toBe('+4420');
    expect((await crm.deals.get('d_1')).contactId).toBe('c_keep');
    await crm.merges.undo(merge.id);
    expect((await crm.deals.get('d_1')).contactId).toBe('c_dup');
    expect((await crm.contacts.get('c_dup')).name).toBe('Ada L.');
    const actions = JSON.parse(migrationLog(file).at(-1)!.actions) as { from: number; to: number; actions: string[] };
    expect(actions).toMatchObject({ from: 8, to: CRM_STORAGE_SCHEMA.version });
    expect(actions.actions.join('\n')).toMatch(/merge/);
  });

  it('a database of schema 11 (before device sync) gets the five sync tables; old rows stay, the new tables are queryable by their indexes', async () => {
    const SYNC = ['syncChange', 'syncClient', 'syncCommand', 'syncShadow', 'syncTag'];
    const v11: StorageSchema = { version: 11, entities: CRM_STORAGE_SCHEMA.entities.filter((e) => !SYNC.includes(e.name)) };
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = tmp.file('v11.db');
    const old = await opened(file, v11);
    const row = (id: string, extra: Record<string, unknown>) => ({ id, tenantId: 'acme', version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...extra });
    await old.transaction('rw', (tx) => tx.write('deal', 'acme', [{ type: 'insert', row: row('d_1', { title: 'Engine', pipelineId: 'p', stageKey: 'new', status: 'open' }) }]));
    await old.close();
    const next = await opened(file);
    expect(ids(await next.transaction('r', async (tx) => (await tx.query('deal', 'acme', {})).rows))).toEqual(['d_1']);
    await next.transaction('rw', async (tx) => {
      await tx.write('syncChange', 'acme', [{ type: 'insert', row: row('deal:d_1', { position: 1, txPosition: 1, entity: 'deal', recordId: 'd_1', deleted: false }) }]);
      await tx.write('syncClient', 'acme', [{ type: 'insert', row: row('cli_1', { userId: 'anna', lastSeq: 3 }) }]);
      await tx.write('syncTag', 'acme', [{ type: 'insert', row: row('tag_1', { entity: 'deal', recordId: 'd_1', epoch: 2 }) }]);
    });
    const changed = await next.transaction('r', (tx) => tx.query('syncChange', 'acme', { filter: { op: 'gt', field: 'position', value: 0 }, sort: [{ field: 'position' }] }));
    expect(ids(changed.rows)).toEqual(['deal:d_1']);
    const actions = JSON.parse(migrationLog(file).at(-1)!.actions) as { from: number; to: number; actions: string[] };
    expect(actions).toMatchObject({ from: 11, to: CRM_STORAGE_SCHEMA.version });
    expect(actions.actions).toEqual(expect.arrayContaining(['create table sync_change', 'create table sync_client', 'create table sync_command', 'create table sync_shadow', 'create table sync_tag']));
  });

  it('schema 12 → 13: syncChange loses its tx/tomb indexes, tombstones get a partial index that prune\'s query uses; old rows stay', async () => {
    const v12: StorageSchema = {
      version: 12,
      entities: CRM_STORAGE_SCHEMA.entities.map((e) => (e.name === 'syncChange' ? { ...e, fields: { updatedAt: 'string', position: 'number', txPosition: 'number', entity: 'string', recordId: 'string', deleted: 'boolean' }, indexes: [{ name: 'position', fields: ['position'] }, { name: 'tx', fields: ['txPosition', 'position'] }, { name: 'tomb', fields: ['deleted', 'updatedAt'] }] } : e)),
    };
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = tmp.file('v12.db');
    const row = (id: string, position: number, extra: Record<string, unknown>) => ({ id, tenantId: 'acme', version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', position, txPosition: position, ...extra });
    const old = await opened(file, v12);
    await old.transaction('rw', (tx) => tx.write('syncChange', 'acme', [
      { type: 'insert', row: row('deal:d_1', 1, { entity: 'deal', recordId: 'd_1', deleted: false }) },
      { type: 'insert', row: row('deal:d_2', 2, { entity: 'deal', recordId: 'd_2', deleted: true }) },
    ]));
    await old.close();
    const next = await opened(file);
    await next.transaction('rw', (tx) => tx.write('syncChange', 'acme', [
      { type: 'insert', row: row('deal:d_3', 3, { entity: 'deal', recordId: 'd_3' }) },
      { type: 'insert', row: row('deal:d_4', 4, { entity: 'deal', recordId: 'd_4', deleted: true }) },
    ]));
    const tombs = await next.transaction('r', (tx) => tx.query('syncChange', 'acme', { filter: { op: 'and', filters: [{ op: 'eq', field: 'deleted', value: true }, { op: 'lt', field: 'updatedAt', value: '2027' }] }, sort: [{ field: 'updatedAt' }, { field: 'id' }] }));
    expect(ids(tombs.rows)).toEqual(['deal:d_2', 'deal:d_4']);
    const byPosition = await next.transaction('r', (tx) => tx.query('syncChange', 'acme', { filter: { op: 'gt', field: 'position', value: 0 }, sort: [{ field: 'position' }] }));
    expect(ids(byPosition.rows)).toEqual(['deal:d_1', 'deal:d_2', 'deal:d_3', 'deal:d_4']);
    expect(byPosition.rows[0]).toMatchObject({ txPosition: 1, entity: 'deal', recordId: 'd_1' }); // kept in the document
    await next.close();
    const db = new Database(file, { readonly: true });
    cleanups.push(() => void db.close());
    const indexes = Object.fromEntries((db.prepare(`SELECT "name", "sql" FROM sqlite_master WHERE "type" = 'index' AND "tbl_name" = 'sync_change'`).all() as { name: string; sql: string | null }[]).map((i) => [i.name, i.sql]));
    expect(Object.keys(indexes)).not.toEqual(expect.arrayContaining(['sync_change__tx']));
    expect(Object.keys(indexes).filter((n) => /__(tx|tomb)$/.test(n))).toEqual([]);
    expect(indexes['sync_change__tombstone']).toMatch(/WHERE "deleted" IS NOT NULL$/);
    // Only the tombstone rows written since (new rows leave `deleted` out when live) and schema 12's rows (false) are in it.
    expect(db.prepare(`SELECT count(*) FROM "sync_change" INDEXED BY "sync_change__tombstone" WHERE "deleted" IS NOT NULL`).pluck().get()).toBe(3);
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM "sync_change" WHERE "tenant_id" = ? AND "deleted" = ? AND "updated_at" < ? ORDER BY "updated_at", "id" LIMIT 500`).all('acme', 1, '2027') as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX sync_change__tombstone/);
    const actions = JSON.parse(migrationLog(file).at(-1)!.actions) as { from: number; to: number; actions: string[] };
    expect(actions).toMatchObject({ from: 12, to: CRM_STORAGE_SCHEMA.version });
  });

  it('layout 2 (owner keys): an old database gets the key column, its table and the keyed board indexes; the first directory fills every deal\'s key', async () => {
    const file = fixtureCopy(); // layout 1
    const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'acme', logger: silentLogger, features: [access()] });
    cleanups.push(() => crm.close());
    const db = new Database(file);
    cleanups.push(() => void db.close());
    const keys = () => db.prepare(`SELECT "owner_id", "owner_key" FROM "deal" WHERE "tenant_id" = 'acme'`).raw(true).all() as [string, string | null][];
    expect(db.prepare(`SELECT "value" FROM "crmkit_meta" WHERE "key" = 'layout_version'`).pluck().get()).toBe(String(LAYOUT_VERSION));
    const indexes = db.prepare(`SELECT "name" FROM sqlite_master WHERE "type" = 'index' AND "tbl_name" = 'deal'`).pluck().all();
    expect(indexes).toEqual(expect.arrayContaining(['deal__team_newest', 'deal__board_team', 'deal__board_totals_team']));
    expect(indexes).not.toContain('deal__board_owner');
    expect(keys().length).toBe(12);
    expect(keys().every(([, key]) => key === null)).toBe(true); // nothing stamped until the tenant's first directory
    // Until then a team scope keeps the owner filter: the answer is right.
    await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' } } } }, defaultRoles: ['lead'] });
    const before = await crm.as({ userId: 'u1', teamIds: ['t'] }).deals.list({ limit: 100 });
    expect(before.items.every((d) => d.ownerId === 'u1')).toBe(true);
    await crm.access.setDirectory({ teams: [{ id: 'a' }, { id: 'b' }], users: [{ id: 'u1', teamIds: ['a'] }, { id: 'u2', teamIds: ['b'] }] });
    expect(keys().every(([owner, key]) => key === (owner === 'u1' ? 'a' : 'b'))).toBe(true);
    expect(db.prepare(`SELECT "owner_key" FROM "deal" WHERE "tenant_id" = 'other'`).pluck().all()).toEqual([null]); // other tenants untouched
    const u1 = await crm.as({ userId: 'u1' }).deals.list({ limit: 100 });
    expect(u1.items.map((d) => d.id).sort()).toEqual(before.items.map((d) => d.id).sort());
    expect(u1.items.length).toBe(6);
  });

  it('rebuilds an AUTOINCREMENT change journal of an earlier version without it: entries and positions kept, the next commit numbered after them', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = tmp.file('journal.db');
    const first = await opened(file);
    await first.close();
    const db = new Database(file);
    db.exec('DROP TABLE "crmkit_changes"');
    db.exec('CREATE TABLE "crmkit_changes" ("seq" INTEGER PRIMARY KEY AUTOINCREMENT, "origin" TEXT NOT NULL, "at" INTEGER NOT NULL, "changes" TEXT)');
    const insert = db.prepare('INSERT INTO "crmkit_changes" ("seq", "origin", "at", "changes") VALUES (?, ?, ?, ?)');
    insert.run(41, 'old', Date.now(), '[]');
    insert.run(42, 'old', Date.now(), '[]');
    // Another connection watches: commits are journaled only then.
    db.prepare("INSERT INTO crmkit_watchers (origin, at) VALUES ('watcher', ?)").run(Date.now());
    db.close();
    const storage = await opened(file);
    await storage.transaction('rw', (tx) => tx.write('pipeline', 't', [{ type: 'insert', row: { id: 'p1', tenantId: 't', version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', name: 'P', stages: [] } }]));
    const check = new Database(file, { readonly: true });
    cleanups.push(() => void check.close());
    const definition = check.prepare(`SELECT "sql" FROM "sqlite_master" WHERE "name" = 'crmkit_changes'`).pluck().get() as string;
    expect(definition).not.toMatch(/AUTOINCREMENT/i);
    const rows = check.prepare('SELECT "seq", "origin" FROM "crmkit_changes" ORDER BY "seq"').raw(true).all() as [number, string][];
    expect(rows.slice(0, 2)).toEqual([[41, 'old'], [42, 'old']]);
    expect(rows[2]![0]).toBe(43);
    expect(rows).toHaveLength(3);
  });

  it('gathers planner statistics for an index a migration adds to an analyzed table (else SQLite sorts the table through it)', async () => {
    const v8: StorageSchema = { version: 8, entities: CRM_STORAGE_SCHEMA.entities.filter((e) => e.name !== 'merge').map((e) => ({ ...e, indexes: e.indexes.filter((i) => !(e.name === 'deal' && i.name === 'lead')) })) };
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = tmp.file('stats.db');
    const old = await opened(file, v8);
    const rows = Array.from({ length: 2000 }, (_, i) => ({ id: `d${String(i).padStart(5, '0')}`, tenantId: 'acme', version: 1, createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(), updatedAt: '2026-01-01T00:00:00.000Z', title: `Deal ${i}`, ownerId: `u${i % 50}`, pipelineId: 'p', stageKey: 'new', status: 'open', tags: [], custom: {} }));
    await old.transaction('rw', (tx) => tx.write('deal', 'acme', rows.map((row) => ({ type: 'insert' as const, row: row as Row }))));
    await old.close();
    const db = new Database(file);
    db.exec('ANALYZE');
    db.close();

    await (await opened(file)).close();
    const after = new Database(file, { readonly: true });
    cleanups.push(() => void after.close());
    const analyzed = (after.prepare("SELECT idx FROM sqlite_stat1 WHERE tbl = 'deal'").all() as { idx: string }[]).map((r) => r.idx);
    expect(analyzed).toContain('deal__lead');
    // The newest-first page reads the newest deals in index order: no sort of the tenant's deals.
    const plan = (after.prepare(`EXPLAIN QUERY PLAN SELECT "doc" FROM "deal" WHERE "tenant_id" = ? ORDER BY "created_at" DESC, "id" ASC LIMIT 51`).all('acme') as { detail: string }[]).map((r) => r.detail);
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
    expect(JSON.parse(migrationLog(file).at(-1)!.actions).actions).toContain('analyze deal__lead');
  });

  it('refills a column when a field comes back after a schema dropped it', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = tmp.file('crm.db');
    const v1 = await opened(file);
    const row = { id: 'a', tenantId: 't', version: 1, title: 'first' } as Row;
    await v1.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row }]));
    await v1.close();
    // The next version no longer declares `title`: writes stop maintaining its column.
    const base = CRM_STORAGE_SCHEMA.version;
    const withoutTitle: StorageSchema = {
      version: base + 1,
      entities: CRM_STORAGE_SCHEMA.entities.map((e) => (e.name === 'deal' ? { ...e, fields: Object.fromEntries(Object.entries(e.fields).filter(([f]) => f !== 'title')) } : e)),
    };
    const v2 = await opened(file, withoutTitle);
    await v2.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'update', row: { ...row, version: 2, title: 'second' }, expectedVersion: 1 }]));
    await v2.close();
    // The one after declares it again: the column must be refilled, not trusted.
    const v3 = await opened(file, { ...CRM_STORAGE_SCHEMA, version: base + 2 });
    const found = await v3.transaction('r', (tx) => tx.query('deal', 't', { filter: { op: 'eq', field: 'title', value: 'second' } }));
    expect(ids(found.rows)).toEqual(['a']);
  });

  it('refuses a database written by a newer schema or layout (STORAGE, not retryable) and leaves it untouched', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = tmp.file('crm.db');
    const newer = await opened(file, { ...CRM_STORAGE_SCHEMA, version: CRM_STORAGE_SCHEMA.version + 1 });
    await newer.close();
    const old = createSqliteStorage({ filename: file });
    cleanups.push(() => old.close());
    const error = await old.open(CRM_STORAGE_SCHEMA).catch((e: unknown) => e);
    expect(isCrmError(error, 'STORAGE') && error.details).toMatchObject({ retryable: false, operation: 'open' });
    expect(migrationLog(file).length).toBe(1);
    const used = await old.transaction('r', async () => 1).catch((e: unknown) => e);
    expect(isCrmError(used, 'STORAGE')).toBe(true);

    const db = new Database(file);
    db.prepare("UPDATE crmkit_meta SET value = ? WHERE key = 'layout_version'").run(String(LAYOUT_VERSION + 1));
    db.close();
    const error2 = await createSqliteStorage({ filename: file }).open({ ...CRM_STORAGE_SCHEMA, version: 99 }).catch((e: unknown) => e);
    expect(isCrmError(error2, 'STORAGE') && error2.message).toMatch(/newer @crmkit\/storage-sqlite/);
  });

  it('keeps the v0 fixture a v0 database (the committed file is never migrated in place)', () => {
    const db = new Database(FIXTURE, { readonly: true });
    try {
      expect(db.prepare("SELECT value FROM crmkit_meta WHERE key = 'schema_version'").get()).toEqual({ value: '0' });
      expect(SCHEMA_V0.version).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe('sqlite layout: every table and index leads with the tenant (for sharding by tenant, docs/scaling.md)', () => {
  it('holds for every entity table, side table, declared and runtime index; only the bookkeeping tables are global', async () => {
    const db = new Database(':memory:');
    cleanups.push(() => void db.close());
    const storage = createSqliteStorage({ database: db });
    await storage.open(CRM_STORAGE_SCHEMA);
    await storage.ensureIndexes([{ entity: 'deal', field: 'custom.region', type: 'string' }, { entity: 'lead', field: 'custom.score', type: 'number' }]);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    const offenders: string[] = [];
    for (const table of tables) {
      if (table === 'crmkit_meta' || table === 'crmkit_migrations') continue;
      const indexes = db.prepare(`SELECT name FROM pragma_index_list(?)`).pluck().all(table) as string[];
      expect(indexes.length, table).toBeGreaterThan(0);
      for (const index of indexes) {
        const first = db.prepare(`SELECT name FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno LIMIT 1`).pluck().get(index);
        if (first !== 'tenant_id') offenders.push(`${table}.${index}`);
      }
    }
    expect(offenders).toEqual([]);
    expect(tables).toContain('deal__tags');
    expect(db.prepare(`SELECT name FROM pragma_index_list('deal')`).pluck().all()).toContain('deal__rt__custom__region__string');
  });
});
