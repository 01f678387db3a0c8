import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, where } from '@crmkit/core';
import type { RuntimeIndexSpec } from '@crmkit/core/storage';
import { customFields } from '@crmkit/core/custom-fields';
import { createTestCrm } from '@crmkit/core/testing';
import { crmWithPipeline, expectCrmError, expectUnchanged, issuePaths } from '../helpers.js';

describe('custom fields', () => {
  it('validates every type at runtime and reports each problem with its path', async () => {
    const t = await crmWithPipeline();
    const { crm } = t;
    await crm.customFields.define({ entity: 'deal', key: 'notes', label: 'Notes', type: 'text' });
    await crm.customFields.define({ entity: 'deal', key: 'seats', label: 'Seats', type: 'number' });
    await crm.customFields.define({ entity: 'deal', key: 'urgent', label: 'Urgent', type: 'boolean' });
    await crm.customFields.define({ entity: 'deal', key: 'golive', label: 'Go-live', type: 'date' });
    await crm.customFields.define({ entity: 'deal', key: 'tier', label: 'Tier', type: 'select', options: [{ value: 'gold' }, { value: 'silver' }] });
    await crm.customFields.define({ entity: 'deal', key: 'modules', label: 'Modules', type: 'multiselect', options: [{ value: 'crm' }, { value: 'erp' }] });
    await crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'money', currency: 'EUR' });
    const ok = await crm.deals.create({
      title: 'Typed',
      custom: { notes: 'x', seats: 12, urgent: true, golive: '2026-02-28', tier: 'gold', modules: ['crm', 'erp'], budget: { amount: 50_000_00, currency: 'EUR' } },
    });
    expect(ok.custom).toEqual({ notes: 'x', seats: 12, urgent: true, golive: '2026-02-28', tier: 'gold', modules: ['crm', 'erp'], budget: { amount: 50_000_00, currency: 'EUR' } });
    const before = t.storage.snapshot();
    const error = await expectCrmError(
      crm.deals.create({
        title: 'Bad',
        custom: { notes: 5, seats: Number.NaN, urgent: 'yes', golive: '2026-02-30', tier: 'platinum', modules: ['crm', 'crm', 'x'], budget: { amount: 1.5, currency: 'USD' }, ghost: 1 },
      }),
      'VALIDATION',
    );
    expect(issuePaths(error).sort()).toEqual(
      ['custom.notes', 'custom.seats', 'custom.urgent', 'custom.golive', 'custom.tier', 'custom.modules.1', 'custom.modules.2', 'custom.budget.amount', 'custom.budget.currency', 'custom.ghost'].sort(),
    );
    expectUnchanged(t, before);
  });

  it('filters and sorts by custom fields through the query language', async () => {
    const { crm } = await crmWithPipeline();
    await crm.customFields.define({ entity: 'deal', key: 'seats', label: 'Seats', type: 'number' });
    await crm.customFields.define({ entity: 'deal', key: 'modules', label: 'Modules', type: 'multiselect', options: [{ value: 'crm' }, { value: 'erp' }] });
    await crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'money' });
    await crm.deals.create({ title: 'a', custom: { seats: 5, modules: ['crm'], budget: { amount: 10, currency: 'EUR' } } });
    await crm.deals.create({ title: 'b', custom: { seats: 50, modules: ['erp'] } });
    await crm.deals.create({ title: 'c', custom: { seats: 20, modules: ['crm', 'erp'], budget: { amount: 99, currency: 'EUR' } } });
    await crm.deals.create({ title: 'd' });
    const bySeats = await crm.deals.list({ where: where.gte('custom.seats', 10), orderBy: [{ field: 'custom.seats', direction: 'desc' }] });
    expect(bySeats.items.map((d) => d.title)).toEqual(['b', 'c']);
    const crmDeals = await crm.deals.list({ where: where.containsAny('custom.modules', ['crm']), orderBy: [{ field: 'custom.budget.amount' }] });
    expect(crmDeals.items.map((d) => d.title)).toEqual(['a', 'c']);
    const wrongType = await expectCrmError(crm.deals.list({ where: where.eq('custom.seats', 'ten') }), 'VALIDATION');
    expect(issuePaths(wrongType)).toEqual(['where.value']);
    await expectCrmError(crm.deals.list({ where: where.eq('custom.unknown', 1) }), 'VALIDATION');
    await expectCrmError(crm.deals.list({ orderBy: [{ field: 'custom.modules' }] }), 'VALIDATION');
  });

  it('enforces required fields, archives fields and keeps definitions unique', async () => {
    const { crm } = await createTestCrm();
    await crm.customFields.define({ entity: 'contact', key: 'region', label: 'Region', type: 'select', options: [{ value: 'north' }], required: true });
    const missing = await expectCrmError(crm.contacts.create({ name: 'A' }), 'VALIDATION');
    expect(issuePaths(missing)).toEqual(['custom.region']);
    const contact = await crm.contacts.create({ name: 'A', custom: { region: 'north' } });
    await expectCrmError(crm.contacts.update(contact.id, { custom: { region: null } }), 'VALIDATION');
    const dup = await expectCrmError(crm.customFields.define({ entity: 'contact', key: 'region', label: 'Again', type: 'text' }), 'VALIDATION');
    expect(issuePaths(dup)).toEqual(['key']);
    const archived = await crm.customFields.update('contact', 'region', { archived: true });
    expect(archived).toMatchObject({ archived: true, version: 2 });
    await expectCrmError(crm.contacts.update(contact.id, { custom: { region: 'north' } }), 'VALIDATION');
    const kept = await crm.contacts.get(contact.id);
    expect(kept.custom).toEqual({ region: 'north' });
    await expectCrmError(crm.customFields.update('contact', 'region', { options: [{ value: 'south' }], version: 1 }), 'CONFLICT');
    expect((await crm.customFields.list('contact')).map((d) => d.key)).toEqual(['region']);
  });

  it('rejects malformed definitions', async () => {
    const { crm } = await createTestCrm();
    const e1 = await expectCrmError(crm.customFields.define({ entity: 'deal', key: '__proto__', label: 'x', type: 'text' }), 'VALIDATION');
    expect(issuePaths(e1)).toEqual(['key']);
    const e2 = await expectCrmError(crm.customFields.define({ entity: 'deal', key: 'tier', label: 'x', type: 'select' }), 'VALIDATION');
    expect(issuePaths(e2)).toEqual(['options']);
    const e3 = await expectCrmError(crm.customFields.define({ entity: 'deal', key: 'n', label: 'x', type: 'number', currency: 'EUR' }), 'VALIDATION');
    expect(issuePaths(e3)).toEqual(['currency']);
  });
});

describe('configuration across processes', () => {
  it('sees custom fields and calendars defined by another process that sends no change events', async () => {
    const { createCrm, createMemoryStorage, silentLogger } = await import('@crmkit/core');
    const { customFields } = await import('@crmkit/core/custom-fields');
    const { tasks } = await import('@crmkit/core/tasks');
    const shared = createMemoryStorage();
    // Another process on the same database: its commits never reach this process's onChange.
    const deaf = { ...shared, open: shared.open, transaction: shared.transaction, close: async () => {}, onChange: () => () => {} };
    const here = await createCrm({ storage: deaf, tenantId: 't', logger: silentLogger, closeStorage: false, features: [customFields(), tasks()] });
    const there = await createCrm({ storage: deaf, tenantId: 't', logger: silentLogger, closeStorage: false, features: [customFields(), tasks()] });
    await here.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
    await here.deals.create({ title: 'warms the cache' });
    await there.customFields.define({ entity: 'deal', key: 'tier', label: 'Tier', type: 'text' });
    const deal = await here.deals.create({ title: 'uses it', custom: { tier: 'gold' } });
    expect(deal.custom).toEqual({ tier: 'gold' });
    await here.calendar.get();
    await there.calendar.set({ timezone: 'Asia/Tokyo', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '18:00' }], holidays: [] });
    expect((await here.calendar.get()).timezone).toBe('Asia/Tokyo');
  });

  it('answers reads that use fields another process just defined (the deferred check reruns them)', async () => {
    const { createCrm, createMemoryStorage, silentLogger } = await import('@crmkit/core');
    const { customFields } = await import('@crmkit/core/custom-fields');
    const shared = createMemoryStorage();
    const deaf = { ...shared, open: shared.open, transaction: shared.transaction, close: async () => {}, onChange: () => () => {} };
    const here = await createCrm({ storage: deaf, tenantId: 't', logger: silentLogger, closeStorage: false, features: [customFields()] });
    const there = await createCrm({ storage: deaf, tenantId: 't', logger: silentLogger, closeStorage: false, features: [customFields()] });
    await here.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
    // Warms here's definition cache (no custom fields): its next reads defer their configuration check.
    await here.deals.create({ title: 'Plain' });
    expect(await here.deals.aggregate({ groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } })).toEqual([{ group: { stageKey: 'a' }, values: { n: 1 } }]);
    await there.customFields.define({ entity: 'deal', key: 'tier', label: 'Tier', type: 'text' });
    await there.deals.create({ title: 'Gold', custom: { tier: 'gold' } });
    expect(await here.deals.aggregate({ groupBy: ['custom.tier'], metrics: { n: { fn: 'count' } } })).toContainEqual({ group: { 'custom.tier': 'gold' }, values: { n: 1 } });
    await there.customFields.define({ entity: 'deal', key: 'seats', label: 'Seats', type: 'number' });
    await there.deals.create({ title: 'Big', custom: { tier: 'gold', seats: 40 } });
    expect((await here.deals.list({ where: where.gte('custom.seats', 10) })).items.map((d) => d.title)).toEqual(['Big']);
  });
});

describe('aggregates outside a transaction (review 12j #2)', () => {
  it('runs one storage aggregate, no transaction, with cached field types; a field another process just defined takes the checked transaction', async () => {
    const { createCrm, createMemoryStorage, silentLogger } = await import('@crmkit/core');
    const shared = createMemoryStorage();
    const calls = { outside: 0, transactions: 0 };
    // Another process on the same database (no change events), and an adapter that aggregates outside a transaction.
    const deaf = {
      ...shared,
      open: shared.open,
      close: async () => {},
      onChange: () => () => {},
      transaction: ((mode, fn) => (calls.transactions++, shared.transaction(mode, fn))) as typeof shared.transaction,
      aggregate: ((entity, tenantId, spec) => (calls.outside++, shared.transaction('r', (tx) => tx.aggregate(entity, tenantId, spec)))) as NonNullable<typeof shared.aggregate>,
    };
    const here = await createCrm({ storage: deaf, tenantId: 't', logger: silentLogger, closeStorage: false, features: [customFields()] });
    const there = await createCrm({ storage: deaf, tenantId: 't', logger: silentLogger, closeStorage: false, features: [customFields()] });
    await here.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
    await here.customFields.define({ entity: 'deal', key: 'tier', label: 'Tier', type: 'text' });
    await here.deals.create({ title: 'Gold', custom: { tier: 'gold' } }); // warms here's cache
    const count = async (spec: Parameters<typeof here.deals.aggregate>[0]) => {
      const before = { ...calls };
      const rows = await here.deals.aggregate(spec);
      return { rows, outside: calls.outside - before.outside, transactions: calls.transactions - before.transactions };
    };
    expect(await count({ groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } })).toEqual({ rows: [{ group: { stageKey: 'a' }, values: { n: 1 } }], outside: 1, transactions: 0 });
    expect(await count({ groupBy: ['custom.tier'], metrics: { n: { fn: 'count' } } })).toEqual({ rows: [{ group: { 'custom.tier': 'gold' }, values: { n: 1 } }], outside: 1, transactions: 0 });
    await there.customFields.define({ entity: 'deal', key: 'seats', label: 'Seats', type: 'number' });
    await there.deals.create({ title: 'Big', custom: { tier: 'gold', seats: 40 } });
    const fresh = await count({ where: where.gte('custom.seats', 10), metrics: { n: { fn: 'count' } } });
    expect(fresh.rows).toEqual([{ group: {}, values: { n: 1 } }]);
    expect(fresh.transactions).toBeGreaterThan(0);
    // Bad input gets the transaction's verdict, as before.
    await expectCrmError(here.deals.aggregate({ groupBy: ['custom.nope'], metrics: { n: { fn: 'count' } } }), 'VALIDATION');
    await expectCrmError(here.deals.aggregate({ metrics: { n: { fn: 'sum', field: 'custom.tier' } } }), 'VALIDATION');
  });
});

describe('indexed custom fields', () => {
  /** Memory storage that records what `ensureIndexes` was asked. */
  function recording() {
    const storage = createMemoryStorage();
    const asked: RuntimeIndexSpec[][] = [];
    const ensure = storage.ensureIndexes.bind(storage);
    storage.ensureIndexes = async (indexes) => {
      asked.push([...indexes]);
      return ensure(indexes);
    };
    return { storage, asked };
  }

  it('asks storage for an index when a field is defined or turned indexed, and at every start', async () => {
    const { storage, asked } = recording();
    const crm = await createCrm({ storage, tenantId: 't1', closeStorage: false, features: [customFields()] });
    await crm.customFields.define({ entity: 'deal', key: 'region', label: 'Region', type: 'select', options: [{ value: 'north' }], indexed: true });
    await crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'money', indexed: true });
    await crm.customFields.define({ entity: 'lead', key: 'score', label: 'Score', type: 'number' });
    expect(asked).toEqual([[{ entity: 'deal', field: 'custom.region', type: 'string' }], [{ entity: 'deal', field: 'custom.budget.amount', type: 'number' }]]);
    const updated = await crm.customFields.update('lead', 'score', { indexed: true });
    expect(updated.indexed).toBe(true);
    expect(asked[2]).toEqual([{ entity: 'lead', field: 'custom.score', type: 'number' }]);
    await crm.close();
    asked.length = 0;
    const again = await createCrm({ storage, tenantId: 't1', closeStorage: false, features: [customFields()] });
    expect(asked).toEqual([
      [
        { entity: 'deal', field: 'custom.budget.amount', type: 'number' },
        { entity: 'deal', field: 'custom.region', type: 'string' },
        { entity: 'lead', field: 'custom.score', type: 'number' },
      ],
    ]);
    await again.close();
  });

  it('refuses to index a multiselect field, on define and on update, writing nothing', async () => {
    const t = await crmWithPipeline();
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.customFields.define({ entity: 'deal', key: 'modules', label: 'Modules', type: 'multiselect', options: [{ value: 'crm' }], indexed: true }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['indexed']);
    expectUnchanged(t, before);
    await t.crm.customFields.define({ entity: 'deal', key: 'modules', label: 'Modules', type: 'multiselect', options: [{ value: 'crm' }] });
    const after = t.storage.snapshot();
    expect(issuePaths(await expectCrmError(t.crm.customFields.update('deal', 'modules', { indexed: true }), 'VALIDATION'))).toEqual(['indexed']);
    expectUnchanged(t, after);
  });
});
