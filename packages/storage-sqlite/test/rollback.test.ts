import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createCrm, isCrmError, silentLogger, type Crm } from '@crmkit/core';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import { createFaultyDatabase, InjectedFailure } from './support/faulty-database.js';
import { createPostgresTestBed } from './support/postgres-subjects.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('sqlite: a failure anywhere inside an operation rolls everything back', () => {
  it('injects a failure at every statement of a lead conversion: each attempt leaves the database exactly as it was', async () => {
    const faulty = createFaultyDatabase();
    cleanups.push(() => faulty.close());
    const crm = await createCrm({ storage: createSqliteStorage({ database: faulty.database }), tenantId: 'acme', logger: silentLogger, actor: { userId: 'u1' } });
    cleanups.push(() => crm.close());
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
    const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@engines.example', companyName: 'Engines Ltd', tags: ['web'] });
    await crm.leads.qualify(lead.id);

    const convert = (c: Crm) => c.leads.convert(lead.id, { deal: { title: 'Engines', value: { amount: 5000, currency: 'EUR' } } });
    const before = faulty.dump();
    // Fail the 2nd, 3rd, … statement of the conversion (the 1st is BEGIN) until it has fewer statements
    // than that and goes through: every failed attempt must leave the database exactly as it was.
    let failAt = 2;
    for (;; failAt++) {
      faulty.arm(failAt);
      const outcome = await convert(crm).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      faulty.disarm();
      if ('result' in outcome) {
        expect(outcome.result.lead.status).toBe('converted');
        expect((await crm.deals.get(outcome.result.deal!.id)).title).toBe('Engines');
        break;
      }
      const { error } = outcome;
      expect(isCrmError(error, 'STORAGE') && error.cause instanceof InjectedFailure, `statement ${failAt}: ${String(error)}`).toBe(true);
      expect(faulty.dump(), `database changed after a failure at statement ${failAt}`).toEqual(before);
    }
    expect(failAt).toBeGreaterThan(10); // a conversion is many statements: contact, company, deal, visit, lead, events
  });

  it('a failure after the first of several writes in a raw transaction leaves nothing behind', async () => {
    const faulty = createFaultyDatabase();
    cleanups.push(() => faulty.close());
    const storage = createSqliteStorage({ database: faulty.database });
    const { CRM_STORAGE_SCHEMA } = await import('@crmkit/core/storage');
    await storage.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => storage.close());
    const before = faulty.dump();
    faulty.arm(3); // BEGIN IMMEDIATE, the first insert, then the first side-table insert fails
    const error = await storage
      .transaction('rw', (tx) =>
        tx.write('deal', 't', [
          { type: 'insert', row: { id: 'a', tenantId: 't', version: 1, tags: ['x', 'y'] } },
          { type: 'insert', row: { id: 'b', tenantId: 't', version: 1 } },
        ]),
      )
      .catch((e: unknown) => e);
    faulty.disarm();
    expect(isCrmError(error, 'STORAGE')).toBe(true);
    expect(faulty.dump()).toEqual(before);
  });
});

const url = inject('postgresUrl');

describe('postgres: a failure inside an operation rolls everything back', () => {
  const bed = createPostgresTestBed(url);
  afterAll(() => bed?.end());

  it('an engine error on the stage-visit insert, after the deal insert, stores nothing of deals.create', async () => {
    const schema = bed!.schemaName('fail');
    cleanups.push(() => bed!.dropSchema(schema));
    const crm = await createCrm({ storage: createPostgresStorage({ pool: bed!.pool, schema }), tenantId: 'acme', logger: silentLogger });
    cleanups.push(() => crm.close());
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await bed!.pool.query(`CREATE FUNCTION "${schema}".fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
    await bed!.pool.query(`CREATE TRIGGER fail BEFORE INSERT ON "${schema}".stage_visit FOR EACH ROW EXECUTE FUNCTION "${schema}".fail()`);
    const counts = async () => (await bed!.pool.query(`SELECT (SELECT count(*) FROM "${schema}".deal) AS deals, (SELECT count(*) FROM "${schema}".event) AS events`)).rows[0];
    const before = await counts();
    const error = await crm.deals.create({ title: 'Doomed' }).catch((e: unknown) => e);
    expect(isCrmError(error, 'STORAGE') && error.details.retryable).toBe(false);
    expect(await counts()).toEqual(before);
    await bed!.pool.query(`DROP TRIGGER fail ON "${schema}".stage_visit`);
    const deal = await crm.deals.create({ title: 'Fine' });
    expect((await crm.deals.list()).items.map((d) => d.id)).toEqual([deal.id]);
  });
});
