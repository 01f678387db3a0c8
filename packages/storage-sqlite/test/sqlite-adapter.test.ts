import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, encodeCursor, type Row } from '@crmkit/core/storage';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import { compileAggregate } from '../src/aggregate-compiler.js';
import { compilePageQuery } from '../src/query-compiler.js';
import { createSqliteDialect } from '../src/sqlite-dialect.js';
import { buildLayout } from '../src/table-layout.js';
import { tempDir } from './support/temp-dir.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function validationOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (isCrmError(error, 'VALIDATION')) return error.details.issues.map((i) => i.path.join('.'));
    throw error;
  }
  throw new Error('expected VALIDATION');
}

describe('createSqliteStorage options', () => {
  it('rejects bad options with VALIDATION, synchronously', () => {
    const bad: unknown[] = [
      undefined,
      {},
      { filename: '' },
      { filename: 42 },
      { filename: 'a.db', database: {} },
      { database: { prepare: 1 } },
      { filename: 'a.db', synchronous: 'off' },
      { filename: 'a.db', busyTimeoutMs: -1 },
      { filename: 'a.db', busyTimeoutMs: 1.5 },
      { filename: 'a.db', tablePrefix: 'x"; DROP TABLE deal; --' },
      { filename: 'a.db', tablePrefix: 'Crm' },
      { filename: 'a.db', statementCacheSize: 0 },
      { filename: 'a.db', nope: true },
    ];
    for (const options of bad) expect(validationOf(() => createSqliteStorage(options as never)), JSON.stringify(options)).toBeDefined();
    expect(validationOf(() => createSqliteStorage({ filename: 'a.db', synchronous: 'off' as 'full' }))).toEqual(['synchronous']);
    expect(validationOf(() => createSqliteStorage({ filename: 'a.db', nope: 1 } as never))).toEqual(['nope']);
  });

  it('options whose getters throw are VALIDATION, for SQLite and PostgreSQL alike (fixerr)', () => {
    const boom = (): never => {
      throw new Error('a getter of the caller threw');
    };
    const getters = Object.defineProperty({}, 'filename', { get: boom, enumerable: true });
    const proxy = new Proxy({}, { get: boom, ownKeys: boom, getOwnPropertyDescriptor: boom });
    for (const options of [getters, proxy]) {
      expect(validationOf(() => createSqliteStorage(options as never))).toEqual(['']);
      expect(validationOf(() => createPostgresStorage(options as never))).toEqual(['']);
    }
  });

  it('opens file databases in WAL mode with synchronous NORMAL by default, FULL on request', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    for (const [synchronous, expected] of [[undefined, 1], ['full', 2]] as const) {
      const db = new Database(tmp.file(`${synchronous ?? 'default'}.db`));
      cleanups.push(() => db.close());
      const storage = createSqliteStorage({ database: db, ...(synchronous ? { synchronous } : {}) });
      await storage.open(CRM_STORAGE_SCHEMA);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(expected);
      expect(Number(db.pragma('busy_timeout', { simple: true }))).toBeGreaterThan(0);
      await storage.close();
      // The database passed in belongs to the caller: close() leaves it open.
      expect(db.open).toBe(true);
    }
  });

  it('is unusable before open (STORAGE) and after close (CLOSED); close is idempotent', async () => {
    const storage = createSqliteStorage({ filename: ':memory:' });
    const early = await storage.transaction('r', async () => 1).catch((e: unknown) => e);
    expect(isCrmError(early, 'STORAGE') && early.details.retryable).toBe(false);
    await storage.open(CRM_STORAGE_SCHEMA);
    await storage.close();
    await storage.close();
    expect(isCrmError(await storage.transaction('r', async () => 1).catch((e: unknown) => e), 'CLOSED')).toBe(true);
    expect(isCrmError(await storage.open(CRM_STORAGE_SCHEMA).catch((e: unknown) => e), 'CLOSED')).toBe(true);
  });

  it('waits for running transactions on close and refuses to commit them', async () => {
    const storage = createSqliteStorage({ filename: ':memory:' });
    await storage.open(CRM_STORAGE_SCHEMA);
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    const running = storage.transaction('rw', async (tx) => {
      await tx.write('deal', 't', [{ type: 'insert', row: { id: 'a', tenantId: 't', version: 1 } }]);
      await paused;
      return 'done';
    });
    const closing = storage.close();
    resume();
    expect(isCrmError(await running.catch((e: unknown) => e), 'CLOSED')).toBe(true);
    await closing;
  });

  it('prefixes every table with tablePrefix, so crmkit can share a database', async () => {
    const db = new Database(':memory:');
    cleanups.push(() => db.close());
    const storage = createSqliteStorage({ database: db, tablePrefix: 'crm_' });
    await storage.open(CRM_STORAGE_SCHEMA);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    expect(tables.length).toBeGreaterThan(10);
    expect(tables.every((t) => t.startsWith('crm_'))).toBe(true);
    await storage.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: { id: 'a', tenantId: 't', version: 1, tags: ['x'] } as Row }]));
    expect(db.prepare('SELECT value FROM crm_deal__tags').pluck().all()).toEqual(['x']);
  });

  it('stores booleans as 0/1 and still filters, sorts and groups them as booleans', async () => {
    const storage = createSqliteStorage({ filename: ':memory:' });
    cleanups.push(() => storage.close());
    await storage.open(CRM_STORAGE_SCHEMA);
    const rows = [true, false, undefined].map((b, i) => ({ id: `d${i}`, tenantId: 't', version: 1, ...(b === undefined ? {} : { probabilityManual: b }) })) as Row[];
    await storage.transaction('rw', (tx) => tx.write('deal', 't', rows.map((row) => ({ type: 'insert' as const, row }))));
    const q = await storage.transaction('r', (tx) => tx.query('deal', 't', { filter: { op: 'eq', field: 'probabilityManual', value: true } }));
    expect(q.rows).toEqual([rows[0]]);
    const agg = await storage.transaction('r', (tx) => tx.aggregate('deal', 't', { groupBy: ['probabilityManual'], metrics: { n: { fn: 'count' } } }));
    expect(agg.map((g) => g.group.probabilityManual)).toEqual([null, false, true]);
  });
});

describe('sqlite query plans: hot paths use indexes, never a table scan', () => {
  const layout = buildLayout(CRM_STORAGE_SCHEMA, { ownerKeys: true });
  const dialect = createSqliteDialect();
  const ctx = (entity: string) => ({ dialect, table: layout.entities.get(entity)!, tenantId: 't', customTypes: {}, context: 'test' });

  async function planner() {
    const db = new Database(':memory:');
    cleanups.push(() => db.close());
    await createSqliteStorage({ database: db }).open(CRM_STORAGE_SCHEMA);
    return (q: { sql: string; parameters: readonly unknown[] }) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail).join(' | ');
  }

  it('answers the board page, its next page and its totals from the board indexes (with the owner and its key, for access scopes)', async () => {
    const plan = await planner();
    const sort = [{ field: 'stageEnteredAt' }];
    const after = encodeCursor({ id: 'x', stageEnteredAt: '2026' }, sort);
    const metrics = { count: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' }, weighted: { fn: 'sum', field: 'weightedValue.amount' } } as const;
    // Without a scope, with an owner scope, and with a team key scope: always inside the board's indexes.
    const scopes = [[], [{ op: 'in', field: 'ownerId', values: ['a', 'b'] }], [{ op: 'eq', field: 'ownerKey', value: 'north' }, { op: 'in', field: 'ownerId', values: ['a', 'b'] }]] as const;
    for (const scope of scopes) {
      const filter = { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: 'p' }, { op: 'eq', field: 'stageKey', value: 's' }, ...scope] } as const;
      expect(plan(compilePageQuery(ctx('deal'), { filter, sort, limit: 50 }).query)).toBe('SEARCH t USING INDEX deal__board_team (tenant_id=? AND pipeline_id=? AND stage_key=?)');
      expect(plan(compilePageQuery(ctx('deal'), { filter, sort, limit: 50, after }).query)).toContain('USING INDEX deal__board_team (tenant_id=? AND pipeline_id=? AND stage_key=? AND (stage_entered_at,id)>(?,?))');
      const totals = compileAggregate(ctx('deal'), { filter: { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: 'p' }, ...scope] }, groupBy: ['stageKey', 'value.currency'], metrics });
      expect(plan(totals.query)).toBe('SEARCH t USING COVERING INDEX deal__board_totals_team (tenant_id=? AND pipeline_id=?)');
    }
  });

  it("a team key scope's newest-first list seeks the key's range (teamNewest), in index order", async () => {
    const plan = await planner();
    const filter = { op: 'and', filters: [{ op: 'eq', field: 'ownerKey', value: 'north' }, { op: 'in', field: 'ownerId', values: ['a', 'b'] }] } as const;
    const list = plan(compilePageQuery(ctx('deal'), { filter, sort: [{ field: 'createdAt', direction: 'desc' }], limit: 50 }).query);
    expect(list).toBe('SEARCH t USING INDEX deal__team_newest (tenant_id=? AND owner_key=?)');
  });

  it("answers an owner's agenda, a timeline and a default list from indexes", async () => {
    const plan = await planner();
    const agenda = compilePageQuery(ctx('task'), {
      filter: { op: 'and', filters: [{ op: 'eq', field: 'ownerId', value: 'u' }, { op: 'eq', field: 'status', value: 'open' }, { op: 'lt', field: 'dueAt', value: 'z' }] },
      sort: [{ field: 'dueAt' }],
      limit: 50,
    });
    expect(plan(agenda.query)).toBe('SEARCH t USING INDEX task__agenda (tenant_id=? AND owner_id=? AND status=? AND due_at<?)');
    const timeline = compilePageQuery(ctx('event'), { filter: { op: 'containsAny', field: 'refs', values: ['deal:1', 'lead:2'] }, sort: [{ field: 'at', direction: 'desc' }, { field: 'id', direction: 'desc' }], limit: 50 });
    const timelinePlan = plan(timeline.query);
    expect(timelinePlan).toContain('SEARCH s USING PRIMARY KEY (tenant_id=? AND value=?)');
    expect(timelinePlan).toContain('SEARCH t USING INDEX sqlite_autoindex_event_1 (tenant_id=? AND id=?)');
    expect(plan(compilePageQuery(ctx('deal'), { sort: [{ field: 'createdAt', direction: 'desc' }], limit: 50 }).query)).toContain('USING INDEX deal__newest_owner (tenant_id=?)');
  });
});

describe('sqlite runtime indexes: indexed custom fields are served by an expression index, in every connection', () => {
  const layout = buildLayout(CRM_STORAGE_SCHEMA);
  const dialect = createSqliteDialect();
  const types = { 'custom.region': 'string', 'custom.score': 'number' } as const;
  const ctx = { dialect, table: layout.entities.get('deal')!, tenantId: 't', customTypes: types, context: 'test' };
  const planOf = (db: Database.Database, q: { sql: string; parameters: readonly unknown[] }) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail).join(' | ');

  it('filters, sorts and groups through the index once any connection created it', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const filename = dir.file('crm.db');
    const other = new Database(filename);
    cleanups.push(() => other.close());
    const before = createSqliteStorage({ database: other }); // opened before the index exists
    await before.open(CRM_STORAGE_SCHEMA);
    const filter = compilePageQuery(ctx, { filter: { op: 'eq', field: 'custom.region', value: 'north' }, limit: 50 }).query;
    expect(planOf(other, filter)).not.toContain('deal__rt__custom__region__string');

    const storage = createSqliteStorage({ filename });
    cleanups.push(() => storage.close());
    await storage.open(CRM_STORAGE_SCHEMA);
    await storage.ensureIndexes([{ entity: 'deal', field: 'custom.region', type: 'string' }, { entity: 'deal', field: 'custom.score', type: 'number' }]);

    // The other connection's next statement sees the changed schema (SQLite checks the schema cookie when a
    // statement starts reading and re-prepares), and its planner the new index. EXPLAIN alone reads nothing,
    // so a real read comes first.
    const [found0] = await before.transaction('r', (tx) => tx.getMany('deal', 't', ['none']));
    expect(found0).toBeUndefined();
    expect(planOf(other, filter)).toBe('SEARCH t USING INDEX deal__rt__custom__region__string (tenant_id=? AND <expr>=?)');
    const sorted = compilePageQuery(ctx, { filter: { op: 'gte', field: 'custom.score', value: 3 }, sort: [{ field: 'custom.score', direction: 'desc' }], limit: 20 }).query;
    expect(planOf(other, sorted)).toContain('USING INDEX deal__rt__custom__score__number (tenant_id=? AND <expr>>?)');
    expect(planOf(other, sorted)).not.toContain('TEMP B-TREE FOR ORDER BY'); // at most ties by id are sorted
    const grouped = compileAggregate(ctx, { groupBy: ['custom.region'], metrics: { n: { fn: 'count' } } }).query;
    // Not labelled covering, but SQLite reads the indexed expression from the index and defers the table
    // seek, which no column then needs: as fast as grouping by a plain indexed column (see the benchmark).
    expect(planOf(other, grouped)).toBe('SEARCH t USING INDEX deal__rt__custom__region__string (tenant_id=?)');
    await before.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: { id: 'd1', tenantId: 't', version: 1, custom: { region: 'north' } } as Row }]));
    const found = await before.transaction('r', (tx) => tx.query('deal', 't', { filter: { op: 'eq', field: 'custom.region', value: 'north' }, customTypes: types }));
    expect(found.rows.map((r) => r.id)).toEqual(['d1']);
    await before.close();
  });

  it('names the index by the field and its type: a redefined type gets its own (another tenant may keep the old one), an untyped index of earlier versions is dropped', async () => {
    const db = new Database(':memory:');
    cleanups.push(() => void db.close());
    const storage = createSqliteStorage({ database: db });
    await storage.open(CRM_STORAGE_SCHEMA);
    // What earlier versions created for `custom.score` (an untyped name: the type was unknown afterwards).
    db.exec(`CREATE INDEX deal__rt__custom__score ON deal (tenant_id, (CASE WHEN json_type(doc, '$.custom.score') = 'text' THEN json_extract(doc, '$.custom.score') END), id)`);
    const names = () => (db.prepare(`SELECT name FROM pragma_index_list('deal') WHERE name LIKE 'deal\\_\\_rt\\_\\_%' ESCAPE '\\' ORDER BY name`).pluck().all() as string[]);
    await storage.ensureIndexes([{ entity: 'deal', field: 'custom.score', type: 'string' }]);
    expect(names()).toEqual(['deal__rt__custom__score__string']);
    await storage.ensureIndexes([{ entity: 'deal', field: 'custom.score', type: 'number' }]);
    expect(names()).toEqual(['deal__rt__custom__score__number', 'deal__rt__custom__score__string']);
    const sorted = compilePageQuery(ctx, { filter: { op: 'gte', field: 'custom.score', value: 3 }, sort: [{ field: 'custom.score', direction: 'desc' }], limit: 20 }).query;
    expect(planOf(db, sorted)).toContain('USING INDEX deal__rt__custom__score__number (tenant_id=? AND <expr>>?)');
    const text = compilePageQuery(ctx, { filter: { op: 'eq', field: 'custom.region', value: 'x' }, limit: 20 }).query;
    expect(planOf(db, text)).not.toContain('deal__rt__custom__score'); // another field: no index of its own
    await storage.close();
  });
});
