import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, isCrmError, silentLogger, type StorageAdapter } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { access } from '@crmkit/core/access';
import { reports } from '@crmkit/core/reports';
import { tasks } from '@crmkit/core/tasks';
import { phoneNumbers } from '@crmkit/core/phone';
import { createFakeClock, createTestCrm } from '@crmkit/core/testing';
import { VIEW_PROJECTIONS } from '../../src/access/view-projection.js';

const rep = { grants: { deal: { '*': 'own' as const }, task: { '*': 'own' as const }, contact: { '*': 'own' as const }, lead: { '*': 'own' as const }, company: { read: 'own' as const }, pipeline: { read: 'all' as const }, report: { read: 'all' as const } } };

async function code(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'allowed',
    (e: unknown) => (isCrmError(e) ? e.code : String(e)),
  );
}

/** Memory storage that counts transactions and reads of setting rows. */
function countingStorage() {
  const inner = createMemoryStorage();
  const counts = { transactions: 0, settingReads: [] as string[] };
  const wrap = (tx: StorageTx): StorageTx => ({
    getMany: (entity, tenantId, ids) => {
      if (entity === 'setting') counts.settingReads.push(...ids);
      return tx.getMany(entity, tenantId, ids);
    },
    query: (...a) => tx.query(...a),
    aggregate: (...a) => tx.aggregate(...a),
    write: (...a) => tx.write(...a),
    nextSequence: (...a) => tx.nextSequence(...a),
    claim: (...a) => tx.claim(...a),
    lockKeys: (...a) => tx.lockKeys(...a),
  });
  const storage: StorageAdapter = {
    name: 'counting',
    capabilities: inner.capabilities,
    open: (s) => inner.open(s),
    transaction: (mode, fn) => {
      counts.transactions++;
      return inner.transaction(mode, (tx) => fn(wrap(tx)));
    },
    onChange: (l) => inner.onChange(l),
    ensureIndexes: (specs) => inner.ensureIndexes(specs),
    close: () => inner.close(),
  };
  return { storage, counts, inner };
}

describe('views of a crm', () => {
  it('are cheap: crm.as reads nothing; the policy is read and compiled once per revision and principal, not per view', async () => {
    const { storage, counts } = countingStorage();
    const crm = await createCrm({ storage, tenantId: 't', logger: silentLogger, features: [access()] });
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.access.setPolicy({ roles: { rep }, defaultRoles: ['rep'] });
    const before = counts.transactions;
    const views = Array.from({ length: 1000 }, (_, i) => crm.as({ userId: `u${i % 10}` }));
    expect(counts.transactions).toBe(before);
    counts.settingReads = [];
    for (const view of views.slice(0, 50)) await view.deals.list();
    // Every operation checks the one-row configuration revision; the policy and directory rows are read once.
    expect(counts.settingReads.filter((k) => k === 'accessPolicy')).toHaveLength(1);
    expect(counts.settingReads.filter((k) => k === 'configRevision')).toHaveLength(50);
  });

  it('see a policy changed by another crm instance (another process) at their next operation', async () => {
    const storage = createMemoryStorage();
    const open = () => createCrm({ storage, tenantId: 't', logger: silentLogger, closeStorage: false, features: [access()] });
    const a = await open();
    const b = await open();
    await a.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await a.deals.create({ title: 'Theirs', ownerId: 'ben' });
    await a.access.setPolicy({ roles: { rep }, defaultRoles: ['rep'] });
    expect((await b.as({ userId: 'anna' }).deals.list()).items).toEqual([]);
    await a.access.setPolicy({ roles: { rep: { grants: { ...rep.grants, deal: { read: 'all' } } } }, defaultRoles: ['rep'] });
    expect((await b.as({ userId: 'anna' }).deals.list()).items.map((d) => d.title)).toEqual(['Theirs']);
    await a.access.setDirectory({ teams: [], users: [{ id: 'anna', departed: true }] });
    expect((await b.as({ userId: 'anna' }).deals.list()).items).toEqual([]);
  });

  it('cannot make views, do not close the crm, and are refused once it is closed', async () => {
    const { crm } = await createTestCrm();
    const view = crm.as({ userId: 'anna' });
    expect(() => view.as({ userId: 'admin' })).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await view.close();
    await crm.pipelines.create({ name: 'Still open', stages: [{ key: 'new', name: 'New' }] });
    await crm.close();
    expect(() => crm.as({ userId: 'anna' })).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('without a policy act as trusted users, and every write is credited to the principal', async () => {
    const { crm } = await createTestCrm({ now: '2026-01-05T09:00:00.000Z' });
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }] });
    const anna = crm.as({ userId: 'anna' });
    const ben = crm.as({ userId: 'ben' });
    const deal = await anna.deals.create({ title: 'Chairs' });
    expect(deal.ownerId).toBe('anna');
    await ben.deals.postpone(deal.id, { until: '2026-01-09T09:00:00Z' });
    await ben.deals.advance(deal.id);
    const task = await ben.tasks.create({ subject: 'Call', dueAt: '2026-01-06T10:00:00Z' });
    expect(task.ownerId).toBe('ben');
    const log = await crm.eventLog.list({ limit: 100 });
    expect(log.items.filter((e) => e.subjectId === deal.id).map((e) => [e.type, e.actorId])).toEqual([
      ['deal.created', 'anna'],
      ['deal.postponed', 'ben'],
      ['deal.stageChanged', 'ben'],
    ]);
    const history = await crm.deals.stageHistory(deal.id);
    expect(history.map((v) => [v.enteredBy, v.exitedBy])).toEqual([['anna', 'ben'], ['ben', undefined]]);
    const performance = await crm.reports.performance({ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', pipelineId: pipeline.id });
    expect(performance.owners.map((o) => [o.ownerId, o.postponements])).toEqual([['ben', 1]]);
  });

  it('refuse the scheduler (a system job) with FORBIDDEN; event handlers get only visible events, scheduler notices included', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-01-05T09:00:00.000Z' });
    await crm.access.setPolicy({ roles: { rep }, defaultRoles: ['rep'] });
    const anna = crm.as({ userId: 'anna' });
    expect(() => anna.scheduler.start()).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await expect(anna.scheduler.tick()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const seen: string[] = [];
    // A view's listener hears the notices its process claims: the crm's own handler makes it claim them.
    crm.on('task.due', () => undefined);
    anna.on('task.due', (e) => seen.push(e.data.subject));
    await crm.tasks.create({ subject: 'Anna calls', dueAt: '2026-01-05T10:00:00Z', ownerId: 'anna' });
    await crm.tasks.create({ subject: 'Ben calls', dueAt: '2026-01-05T10:00:00Z', ownerId: 'ben' });
    clock.advance(2 * 3_600_000);
    await crm.scheduler.tick();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual(['Anna calls']);
  });

  it('lead conversion in a view matches only contacts the principal may read', async () => {
    const { crm } = await createTestCrm({ now: '2026-01-05T09:00:00.000Z' });
    await crm.access.setPolicy({ roles: { rep }, defaultRoles: ['rep'] });
    const hidden = await crm.contacts.create({ name: 'Ada (Ben)', email: 'ada@example.com', ownerId: 'ben' });
    const anna = crm.as({ userId: 'anna' });
    const lead = await crm.leads.create({ name: 'Ada', email: 'ada@example.com', ownerId: 'anna' });
    const result = await anna.leads.convert(lead.id);
    expect(result.contact.id).not.toBe(hidden.id);
    expect(result.contactMatchedBy).toBeUndefined();
    expect(result.contact.ownerId).toBe('anna');
    // The crm itself matches it.
    const lead2 = await crm.leads.create({ name: 'Ada', email: 'ada@example.com', ownerId: 'anna' });
    expect((await crm.leads.convert(lead2.id)).contact.id).toBe(hidden.id);
  });

  it("lead conversion in a view does not link the company of a matched contact when the principal may not read it", async () => {
    const { crm } = await createTestCrm({ now: '2026-01-05T09:00:00.000Z' });
    await crm.access.setPolicy({ roles: { rep }, defaultRoles: ['rep'] });
    const hiddenCompany = await crm.companies.create({ name: 'Ben Industries', ownerId: 'ben' });
    const visible = await crm.contacts.create({ name: 'Ada', email: 'ada@example.com', ownerId: 'anna', companyId: hiddenCompany.id });
    const lead = await crm.leads.create({ name: 'Ada', email: 'ada@example.com', ownerId: 'anna' });
    const result = await crm.as({ userId: 'anna' }).leads.convert(lead.id, { createCompany: false });
    expect(result.contact.id).toBe(visible.id);
    expect(result.company?.id).not.toBe(hiddenCompany.id);
    expect(JSON.stringify(result)).not.toContain('Ben Industries');
  });

  it('refuse feed pruning and system jobs; webhooks and identity settings need the settings grant', async () => {
    const { crm } = await createTestCrm({ now: '2026-01-05T09:00:00.000Z', phoneNumbers });
    await crm.access.setPolicy({ roles: { rep, admin: { grants: { setting: { '*': 'all' } } } }, defaultRoles: ['rep'] });
    await crm.contacts.create({ name: 'Ben only', ownerId: 'ben' });
    const anna = crm.as({ userId: 'anna' });
    const boss = crm.as({ userId: 'boss', roles: ['admin'] });
    for (const view of [anna, boss]) {
      await expect(view.events.prune()).rejects.toMatchObject({ code: 'FORBIDDEN', details: { action: 'events.prune', reason: 'system job' } });
      await expect(view.duplicates.reindex()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(view.identity.reindex()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(() => view.webhooks.start()).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
      await expect(view.webhooks.drain()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(view.webhooks.pruneDeliveries({ before: '2026-01-01T00:00:00.000Z' })).rejects.toMatchObject({ code: 'FORBIDDEN', details: { action: 'webhooks.pruneDeliveries', reason: 'system job' } });
    }
    expect(await crm.events.consumers()).toEqual([]);
    await expect(anna.webhooks.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(anna.webhooks.create({ url: 'https://example.com/hook' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(anna.identity.set({ defaultRegion: 'FR' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await crm.webhooks.list()).toEqual([]);
    // Reading identity settings is a configuration read: the `setting` read grant, as the calendar's (review 11k #8).
    await expect(anna.identity.get()).rejects.toMatchObject({ code: 'FORBIDDEN', details: { action: 'setting.read', reason: 'no role grants it' } });
    expect((await boss.identity.get()).defaultRegion).toBeUndefined();
    // An administrator's view (the settings grant) administers them.
    const endpoint = await boss.webhooks.create({ url: 'https://example.com/hook' });
    expect((await crm.webhooks.list()).map((e) => e.id)).toEqual([endpoint.id]);
    expect((await boss.identity.set({ defaultRegion: 'FR' })).defaultRegion).toBe('FR');
    expect((await crm.identity.get()).defaultRegion).toBe('FR');
    // The crm itself reads the whole feed.
    expect((await crm.events.read()).events.length).toBeGreaterThan(0);
  });

  it('reports: money reports are refused when amounts are hidden, others leave the amounts out, customers hide unreadable cards', async () => {
    const { crm } = await createTestCrm({ now: '2026-01-05T09:00:00.000Z' });
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const mine = await crm.contacts.create({ name: 'Mine', ownerId: 'anna' });
    const theirs = await crm.contacts.create({ name: 'Theirs', ownerId: 'ben' });
    for (const contact of [mine, theirs]) {
      const deal = await crm.deals.create({ title: contact.name, contactId: contact.id, ownerId: 'anna', value: { amount: 500_00, currency: 'USD' } });
      await crm.deals.win(deal.id);
    }
    await crm.access.setPolicy({
      roles: {
        rep,
        support: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' }, report: { read: 'all' } }, fields: { deal: { read: { deny: ['value'] } } } },
      },
      defaultRoles: ['rep'],
    });
    const period = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' };
    const support = crm.as({ userId: 'sue', roles: ['support'] });
    expect(await code(support.reports.forecast({ pipelineId: pipeline.id, by: 'month' }))).toBe('FORBIDDEN');
    expect(await code(support.reports.velocity(period))).toBe('FORBIDDEN');
    expect(await code(support.reports.customers())).toBe('FORBIDDEN');
    const performance = await support.reports.performance(period);
    expect(performance.owners).toEqual([expect.objectContaining({ ownerId: 'anna', dealsWon: 2, wonValue: [] })]);
    const customers = await crm.as({ userId: 'anna' }).reports.customers({ currency: 'USD' });
    expect(customers.contacts.map((c) => c.name)).toEqual(['Mine']);
  });

  it('duplicate search and lead conversion see only what the principal may read', async () => {
    const { crm } = await createTestCrm();
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@analytical.co.uk', ownerId: 'ben' });
    const visible = await crm.contacts.create({ name: 'Ada King', email: 'ada.king@example.com', ownerId: 'anna' });
    const hiddenCompany = await crm.companies.create({ name: 'Analytical Engines', domain: 'analytical.co.uk', ownerId: 'ben' });
    await crm.access.setPolicy({
      roles: {
        rep: { grants: { ...rep.grants, contact: { '*': 'all' }, company: { '*': 'own' } }, fields: { contact: { read: { deny: ['email'] } } } },
      },
      defaultRoles: ['rep'],
    });
    const anna = crm.as({ userId: 'anna' });
    const dupes = await anna.duplicates.find({ name: 'Ada Lovelace', email: 'ada@analytical.co.uk' });
    expect(dupes.every((d) => !('email' in d.record))).toBe(true);
    expect(dupes.length).toBeGreaterThan(0);
    expect(dupes.flatMap((d) => d.reasons.map((r) => r.kind))).not.toContain('email');
    expect(dupes.map((d) => d.record.id)).not.toContain(hiddenCompany.id);
    expect(dupes.map((d) => d.record.id)).not.toContain(visible.id);
    const lead = await anna.leads.create({ name: 'Ada Lovelace', email: 'ada@analytical.co.uk', companyName: 'Analytical Engines' });
    const converted = await anna.leads.convert(lead.id);
    expect(converted.company?.id).not.toBe(hiddenCompany.id);
    expect(converted.company?.ownerId).toBe('anna');
  });

  it('reindex restores the access copies of rows stored without them', async () => {
    const { crm, storage } = await createTestCrm();
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const deal = await crm.deals.create({ title: 'Old data', ownerId: 'anna' });
    const task = await crm.tasks.create({ subject: 'Call', dueAt: '2026-02-01T10:00:00Z', dealId: deal.id, ownerId: 'ben' });
    // As an older crmkit stored it: no copy of the parent's owner.
    await storage.transaction('rw', async (tx) => {
      const [row] = await tx.getMany('task', 'test', [task.id]);
      const { parentOwner: _p, ...old } = row!;
      await tx.write('task', 'test', [{ type: 'update', row: { ...old, version: row!.version + 1 } as never, expectedVersion: row!.version }]);
    });
    await crm.access.setPolicy({ roles: { rep }, defaultRoles: ['rep'] });
    const anna = crm.as({ userId: 'anna' });
    expect(await code(anna.tasks.get(task.id))).toBe('NOT_FOUND');
    expect(await crm.access.reindex()).toEqual({ updated: 1 });
    expect((await crm.tasks.get(task.id)).parentOwner).toBe('deal:anna');
    expect(await anna.tasks.get(task.id)).toMatchObject({ id: task.id }); // readable again, bookkeeping left out
    expect(await crm.access.reindex()).toEqual({ updated: 0 });
  });

  it('rights() tells a UI what the principal may do', async () => {
    const { crm } = await createTestCrm();
    expect(await crm.as({ userId: 'anna' }).access.rights()).toBeNull();
    await crm.access.setPolicy({ roles: { rep, support: { grants: { deal: { read: 'all' } }, fields: { deal: { read: { deny: ['value'] } } } } }, defaultRoles: ['rep'] });
    const rights = await crm.as({ userId: 'sue', roles: ['support'] }).access.rights();
    expect(rights).toMatchObject({ userId: 'sue', roles: ['support'], fieldRules: ['deal'] });
    expect(rights!.entities.deal).toMatchObject({ read: 'all', update: 'none' });
    expect(await crm.access.rights()).toBeNull();
  });

  it('every method of every API a view offers has a projection rule', async () => {
    const { crm } = await createTestCrm();
    const view = crm.as({ userId: 'anna' }) as unknown as Record<string, object>;
    const missing: string[] = [];
    for (const [path, table] of Object.entries(VIEW_PROJECTIONS)) {
      if (path === 'crm') continue;
      let proto = Object.getPrototypeOf(Object.getPrototypeOf(view[path]!)) as object | null;
      const methods = new Set<string>();
      while (proto && proto !== Object.prototype) {
        for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor' && typeof (proto as Record<string, unknown>)[name] === 'function') methods.add(name);
        proto = Object.getPrototypeOf(proto) as object | null;
      }
      for (const method of methods) if (!(method in table)) missing.push(`${path}.${method}`);
    }
    const apis = ['leads', 'contacts', 'companies', 'deals', 'pipelines', 'customFields', 'activities', 'eventLog', 'funnel', 'assignment', 'calendar', 'tasks', 'duplicates', 'imports', 'reports', 'scoring', 'scheduler', 'events', 'webhooks', 'identity'];
    expect(apis.filter((a) => !(a in VIEW_PROJECTIONS))).toEqual([]);
    expect(missing, missing.join(', ')).toEqual([]);
  });

  it('a task created in a crm with only the features it needs still follows its deal', async () => {
    const clock = createFakeClock();
    const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 't', clock, logger: silentLogger, features: [tasks(), access(), reports()] });
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const deal = await crm.deals.create({ title: 'x', ownerId: 'anna' });
    const task = await crm.tasks.create({ subject: 'y', dueAt: '2026-03-01T10:00:00Z', dealId: deal.id, ownerId: 'ben' });
    expect(task.parentOwner).toBe('deal:anna');
    await crm.deals.update(deal.id, { ownerId: 'carl' });
    expect((await crm.tasks.get(task.id)).parentOwner).toBe('deal:carl');
  });
});

describe('create-many in a view', () => {
  it('imports.contacts/companies/leads follow the create scope and WITH CHECK; results are projected', async () => {
    const { crm } = await createTestCrm();
    await crm.access.setPolicy({
      roles: {
        rep,
        reader: { grants: { contact: { read: 'all' }, company: { read: 'all' }, lead: { read: 'all' } } },
      },
    });
    const anna = crm.as({ userId: 'anna', roles: ['rep'] });
    const made = await anna.imports.contacts([{ name: 'Ada', ownerId: 'anna' }]);
    expect(made.map((c) => c.name)).toEqual(['Ada']);
    // Creating a record owned by someone else leaves anna's own scope: refused, nothing written.
    expect(await code(anna.imports.leads([{ name: 'Bob lead', ownerId: 'bob' }]))).toBe('FORBIDDEN');
    const reader = crm.as({ userId: 'rita', roles: ['reader'] });
    expect(await code(reader.imports.companies([{ name: 'Acme' }]))).toBe('FORBIDDEN');
    expect(await code(reader.imports.contacts([{ name: 'Eve' }]))).toBe('FORBIDDEN');
    expect((await crm.leads.list()).items).toEqual([]);
    expect((await crm.companies.list()).items).toEqual([]);
    expect((await crm.contacts.list()).items.map((c) => c.name)).toEqual(['Ada']);
  });
});
