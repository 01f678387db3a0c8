import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, isCrmError, silentLogger } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, type Row } from '@crmkit/core/storage';
import { createPgliteStorage } from '@crmkit/storage-sqlite/pglite';
import { pglitePool } from '../src/pglite-driver.js';
import { createPgliteTestBed, createTestPglite } from './support/pglite-subjects.js';

const bed = await createPgliteTestBed();
const { pglite } = bed;
afterAll(() => bed.end());
let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function schema(prefix = 'p'): string {
  const name = bed.schemaName(prefix);
  cleanups.push(() => bed.dropSchema(name));
  return name;
}

describe('createPgliteStorage options', () => {
  it('rejects bad options with VALIDATION, synchronously', () => {
    const cases: [unknown, string][] = [
      [undefined, '(input)'],
      [{}, 'pglite'],
      [{ pglite: { query: () => undefined } }, 'pglite'],
      [{ pglite, schema: 'Bad-Name' }, 'schema'],
      [{ pglite, schema: 'pg_catalog' }, 'schema'],
      [{ pglite, tablePrefix: '1x' }, 'tablePrefix'],
      [{ pglite, connectionString: 'postgres://x' }, 'connectionString'],
      [{ pglite, durable: 'yes' }, 'durable'],
    ];
    for (const [options, path] of cases) {
      let error: unknown;
      try {
        createPgliteStorage(options as never);
      } catch (e) {
        error = e;
      }
      expect(isCrmError(error, 'VALIDATION'), path).toBe(true);
      expect(String((error as Error).message)).toContain(path);
    }
  });

  it('is durable unless the PGlite database lives in memory, or as told', () => {
    expect(createPgliteStorage({ pglite }).capabilities.durable).toBe(false);
    expect(createPgliteStorage({ pglite: { transaction: pglite.transaction.bind(pglite), dataDir: 'memory://x' } }).capabilities.durable).toBe(false);
    expect(createPgliteStorage({ pglite: { transaction: pglite.transaction.bind(pglite), dataDir: 'idb://crm' } }).capabilities.durable).toBe(true);
    expect(createPgliteStorage({ pglite: { transaction: pglite.transaction.bind(pglite), dataDir: '/var/lib/crm' } }).capabilities.durable).toBe(true);
    expect(createPgliteStorage({ pglite: { transaction: pglite.transaction.bind(pglite) }, durable: true }).capabilities.durable).toBe(true); // a PGliteWorker
    expect(createPgliteStorage({ pglite: { transaction: pglite.transaction.bind(pglite), dataDir: '/var/lib/crm' }, durable: false }).capabilities.durable).toBe(false);
  });
});

describe('the pool shim over one PGlite connection', () => {
  it("turns the engine's BEGIN with modes into SET TRANSACTION: read transactions are REPEATABLE READ and READ ONLY", async () => {
    const client = await pglitePool(pglite).connect();
    await client.query({ text: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' });
    const { rows } = await client.query({ text: "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')", rowMode: 'array' });
    expect(rows).toEqual([['repeatable read', 'on']]);
    await expect(client.query({ text: 'CREATE TABLE ro_probe (x int)' })).rejects.toThrow(/read-only transaction/);
    await client.query({ text: 'ROLLBACK' });
    client.release();
  });

  it('commits on COMMIT, rolls back on ROLLBACK and on a release without either', async () => {
    await pglite.query('CREATE TABLE shim_probe (x int)');
    cleanups.push(async () => void (await pglite.query('DROP TABLE shim_probe')));
    const pool = pglitePool(pglite);
    const insert = async (x: number, end: 'COMMIT' | 'ROLLBACK' | 'release') => {
      const client = await pool.connect();
      await client.query({ text: 'BEGIN' });
      const { rowCount } = await client.query({ text: 'INSERT INTO shim_probe VALUES ($1)', values: [x] });
      expect(rowCount).toBe(1);
      if (end !== 'release') await client.query({ text: end });
      client.release();
    };
    await insert(1, 'COMMIT');
    await insert(2, 'ROLLBACK');
    await insert(3, 'release');
    expect((await pglite.query<{ x: number }>('SELECT x FROM shim_probe ORDER BY x')).rows).toEqual([{ x: 1 }]);
  });

  it('holds the connection for the whole transaction: a query of the host on the same PGlite waits for the commit', async () => {
    const name = schema();
    const storage = createPgliteStorage({ pglite, schema: name });
    await storage.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => storage.close());
    const order: string[] = [];
    let hostQuery: Promise<unknown> | undefined;
    await storage.transaction('rw', async (tx) => {
      await tx.write('company', 't', [{ type: 'insert', row: { id: 'c1', tenantId: 't', version: 1, name: 'Acme' } as Row }]);
      // Issued mid-transaction: it must neither run inside crmkit's transaction nor see its uncommitted row.
      hostQuery = pglite.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${name}".company`).then((r) => {
        order.push('host query');
        return r.rows;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await tx.getMany('company', 't', ['c1']);
      order.push('crmkit transaction done');
    });
    expect(await hostQuery).toEqual([{ n: 1 }]);
    expect(order).toEqual(['crmkit transaction done', 'host query']);
  });
});

describe('PGlite storage: one connection, transactions one at a time', () => {
  it('two adapters on the same PGlite and schema interleave read-modify-write transactions without losing an update or deadlocking', async () => {
    const name = schema();
    const a = createPgliteStorage({ pglite, schema: name });
    const b = createPgliteStorage({ pglite, schema: name });
    await a.open(CRM_STORAGE_SCHEMA);
    await b.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => a.close(), () => b.close());
    await a.transaction('rw', (tx) => tx.write('company', 't', [{ type: 'insert', row: { id: 'c', tenantId: 't', version: 1, name: 'n0' } as Row }]));
    const increment = (storage: typeof a) =>
      storage.transaction('rw', async (tx) => {
        const [row] = await tx.getMany('company', 't', ['c']);
        await tx.write('company', 't', [{ type: 'update', row: { ...row!, version: row!.version + 1 } as Row, expectedVersion: row!.version }]);
      });
    const reads = (storage: typeof a) => storage.transaction('r', (tx) => tx.getMany('company', 't', ['c']));
    // 40 writers and 20 readers from both adapters at once: every transaction runs alone on the one
    // connection, so each increment reads the version the previous one wrote (no CONFLICT).
    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 3 === 2 ? reads(i % 2 ? a : b) : increment(i % 2 ? a : b))));
    const [row] = await b.transaction('r', (tx) => tx.getMany('company', 't', ['c']));
    expect(row!.version).toBe(41);
  });

  it('an engine error in the middle of an operation stores nothing of it (a trigger fails the stage-visit insert)', async () => {
    const name = schema('fail');
    const crm = await createCrm({ storage: createPgliteStorage({ pglite, schema: name }), tenantId: 'acme', logger: silentLogger });
    cleanups.push(() => crm.close());
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await pglite.exec(`CREATE FUNCTION "${name}".fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
      CREATE TRIGGER fail BEFORE INSERT ON "${name}".stage_visit FOR EACH ROW EXECUTE FUNCTION "${name}".fail();`);
    const counts = async () => (await pglite.query(`SELECT (SELECT count(*)::int FROM "${name}".deal) AS deals, (SELECT count(*)::int FROM "${name}".event) AS events`)).rows[0];
    const before = await counts();
    const error = await crm.deals.create({ title: 'Doomed' }).catch((e: unknown) => e);
    expect(isCrmError(error, 'STORAGE')).toBe(true);
    expect(String((error as Error).message)).toContain('injected failure');
    expect(await counts()).toEqual(before);
    await pglite.query(`DROP TRIGGER fail ON "${name}".stage_visit`);
    const deal = await crm.deals.create({ title: 'Fine' });
    expect((await crm.deals.list()).items.map((d) => d.id)).toEqual([deal.id]);
  });
});

describe('PGlite storage on a directory', () => {
  it('keeps the crm across closing and reopening PGlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crmkit-pglite-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // Start from the cached fresh database (initdb in WebAssembly is slow), written into the directory.
    const template = await createTestPglite();
    const dump = await template.dumpDataDir('none');
    await template.close();
    const first = await PGlite.create({ dataDir: dir, loadDataDir: dump });
    const storage = createPgliteStorage({ pglite: first, schema: 'crm' });
    expect(storage.capabilities.durable).toBe(true);
    const crm = await createCrm({ storage, tenantId: 'acme', logger: silentLogger });
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const deal = await crm.deals.create({ title: 'Kept', value: { amount: 1200_00, currency: 'EUR' } });
    await crm.close();
    await first.close();

    const second = await PGlite.create(dir);
    cleanups.push(() => second.close());
    const again = await createCrm({ storage: createPgliteStorage({ pglite: second, schema: 'crm' }), tenantId: 'acme', logger: silentLogger });
    cleanups.push(() => again.close());
    const read = await again.deals.get(deal.id);
    expect(read).toMatchObject({ id: deal.id, title: 'Kept', value: { amount: 1200_00, currency: 'EUR' }, version: deal.version });
  });
});
