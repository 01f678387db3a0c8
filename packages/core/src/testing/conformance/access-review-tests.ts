import { expect, it } from 'vitest';
import type { AccessPolicy } from '../../access/access-policy.js';
import { isCrmError } from '../../errors/crm-error.js';
import type { LeakWorld } from './access-leak-tests.js';

type Grants = AccessPolicy['roles'][string]['grants'];
type Fields = AccessPolicy['roles'][string]['fields'];

const policy = (grants: Grants, fields?: Fields): AccessPolicy => ({ roles: { r: { grants, ...(fields ? { fields } : {}) } }, defaultRoles: ['r'] }) as AccessPolicy;

const REP: Grants = { deal: { '*': 'own' }, contact: { '*': 'own' }, company: { '*': 'own' }, lead: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' }, report: { read: 'all' } };
/** Reads every record, but not a contact's e-mail nor a deal's value. */
const SUPPORT: Grants = { deal: { read: 'all' }, contact: { read: 'all' }, company: { read: 'all' }, lead: { read: 'all' }, task: { read: 'all' }, activity: { read: 'all' }, pipeline: { read: 'all' }, report: { read: 'all' } };

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (isCrmError(error)) return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error('expected a CrmError');
}

/**
 * Leaks a second adversarial review found (issue 11), run on every adapter by the access suite:
 * hidden fields in merge events, ids of hidden records in unique-key conflicts and id collisions,
 * fields copied by lead conversion, derivable probability.
 */
export function accessReviewTests(open: () => Promise<LeakWorld>): void {
  it('merge events (merged, mergeUndone) carry no unreadable changed field, on every event path', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(SUPPORT, { contact: { read: { deny: ['email'] } } }));
    const me = w.root.as({ userId: 'me' });
    const start = await w.root.events.head();
    const seen: unknown[] = [];
    const off = me.on('*', (e) => seen.push(e));
    const survivor = await w.root.contacts.create({ name: 'Survivor', ownerId: 'other' });
    const dup = await w.root.contacts.create({ name: 'Dup', email: 'very-secret@corp.example', ownerId: 'other' });
    const merge = await w.root.merges.contacts(survivor.id, [dup.id], { fillEmpty: true });
    await w.root.merges.undo(merge.merge.id);
    await settle();
    off();
    const log = await me.eventLog.list({ limit: 100 });
    const timeline = await me.timeline({ type: 'contact', id: survivor.id });
    const feed = await me.events.read({ after: start, limit: 100 });
    for (const [path, items] of [['on', seen], ['eventLog', log.items], ['timeline', timeline.items], ['feed', feed.events]] as const) {
      const types = (items as { type: string }[]).map((e) => e.type);
      expect(types, path).toContain('contact.merged');
      expect(types, path).toContain('contact.mergeUndone');
      expect(JSON.stringify(items), path).not.toContain('very-secret');
    }
    // Fields the principal reads still show; the trusted crm sees the e-mail.
    const merged = log.items.find((e) => e.type === 'contact.merged')!;
    expect(merged.data).toMatchObject({ mergeId: merge.merge.id, duplicateIds: [dup.id] });
    expect(JSON.stringify((await w.root.eventLog.list({ limit: 100 })).items)).toContain('very-secret');
  });

  it("merge events name no hidden duplicate and count no links to hidden records", async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const mine = await w.root.contacts.create({ name: 'Mine', ownerId: 'me' });
    const theirs = await w.root.contacts.create({ name: 'Theirs', ownerId: 'other' });
    await w.root.deals.create({ title: 'Hidden 1', pipelineId: w.pipelineId, ownerId: 'other', contactId: theirs.id });
    await w.root.deals.create({ title: 'Hidden 2', pipelineId: w.pipelineId, ownerId: 'other', contactId: theirs.id });
    const merge = await w.root.merges.contacts(mine.id, [theirs.id]);
    const me = w.root.as({ userId: 'me' });
    const timeline = await me.timeline({ type: 'contact', id: mine.id });
    const event = timeline.items.find((e) => e.type === 'contact.merged')!;
    expect(event.data).toMatchObject({ mergeId: merge.merge.id, duplicateIds: [] });
    expect('links' in event.data).toBe(false);
    expect(JSON.stringify(timeline)).not.toContain(theirs.id);
    // The trusted view keeps both.
    const root = (await w.root.timeline({ type: 'contact', id: mine.id })).items.find((e) => e.type === 'contact.merged')!;
    expect(root.data).toMatchObject({ duplicateIds: [theirs.id], links: 5 });
  });
  it('unique-key conflicts with a hidden record name no id (create, update, upsertByExternalRef, import), with a readable one they do', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const hidden = await w.root.deals.create({ title: 'Hidden', pipelineId: w.pipelineId, ownerId: 'other', externalRefs: [{ system: 'shop', id: 'order-7' }] });
    const hiddenContact = await w.root.contacts.create({ name: 'Hidden', ownerId: 'other', externalRefs: [{ system: 'shop', id: 'cust-1' }] });
    const me = w.root.as({ userId: 'me' });
    const taken = [{ system: 'shop', id: 'order-7' }];
    const mine = await me.deals.create({ title: 'Mine', pipelineId: w.pipelineId });
    const attempts = {
      'deals.create': failure(me.deals.create({ title: 'New', pipelineId: w.pipelineId, externalRefs: taken })),
      'deals.update': failure(me.deals.update(mine.id, { externalRefs: taken })),
      'deals.upsertByExternalRef': failure(me.deals.upsertByExternalRef('shop', 'order-8', { title: 'New', pipelineId: w.pipelineId, externalRefs: taken })),
      'contacts.create': failure(me.contacts.create({ name: 'New', externalRefs: [{ system: 'shop', id: 'cust-1' }] })),
    };
    for (const [path, attempt] of Object.entries(attempts)) {
      const error = await attempt;
      expect(error.code, path).toBe('CONFLICT');
      expect((error.details as { key?: object }).key, path).toMatchObject({ field: 'externalKeys' });
      expect((error.details as { key: object }).key, path).not.toHaveProperty('heldBy');
      expect(JSON.stringify(error), path).not.toContain(hidden.id);
      expect(JSON.stringify(error), path).not.toContain(hiddenContact.id);
      expect(error.message, path).not.toContain(hidden.id);
      expect(error.message, path).not.toContain(hiddenContact.id);
    }
    const report = await me.import.run({ entity: 'contact', mode: 'create', rows: [{ name: 'Imported', externalRefs: { shop: 'cust-1' } }], dryRun: true });
    expect(JSON.stringify(report)).not.toContain(hiddenContact.id);
    expect(JSON.stringify(report)).toContain('CONFLICT');
    // Nothing was written.
    expect((await w.root.deals.get(mine.id)).externalRefs ?? []).toEqual([]);
    expect((await w.root.deals.list({ limit: 100 })).items.map((d) => d.title).sort()).toEqual(['Hidden', 'Mine']);
    // A holder the view reads is named; the trusted crm names every holder.
    const own = await me.deals.create({ title: 'Own ref', pipelineId: w.pipelineId, externalRefs: [{ system: 'shop', id: 'order-9' }] });
    const ownClash = await failure(me.deals.update(mine.id, { externalRefs: [{ system: 'shop', id: 'order-9' }] }));
    expect((ownClash.details as { key: { heldBy?: string } }).key.heldBy).toBe(own.id);
    const rootClash = await failure(w.root.deals.update(mine.id, { externalRefs: taken }));
    expect((rootClash.details as { key: { heldBy?: string } }).key.heldBy).toBe(hidden.id);
  });

  it('creating with the id of a hidden record tells neither its version nor that it changed (contacts, deals, tasks, import key id)', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const contact = await w.root.contacts.create({ name: 'Hidden', ownerId: 'other' });
    const deal = await w.root.deals.create({ title: 'Hidden', pipelineId: w.pipelineId, ownerId: 'other' });
    await w.root.contacts.update(contact.id, { name: 'Hidden 2' });
    const task = await w.root.tasks.create({ subject: 'Hidden', dueAt: '2026-03-01T10:00:00Z', ownerId: 'other' });
    const me = w.root.as({ userId: 'me' });
    for (const [path, attempt] of Object.entries({
      contact: failure(me.contacts.create({ id: contact.id, name: 'Mine' })),
      deal: failure(me.deals.create({ id: deal.id, title: 'Mine', pipelineId: w.pipelineId })),
      task: failure(me.tasks.create({ id: task.id, subject: 'Mine', dueAt: '2026-03-01T10:00:00Z' })),
    })) {
      const error = await attempt;
      expect(['CONFLICT', 'NOT_FOUND'], path).toContain(error.code);
      expect(error.details, path).not.toMatchObject({ actualVersion: expect.any(Number) });
      expect(error.message, path).not.toMatch(/version|stored|concurrently/);
    }
    const report = await me.import.run({ entity: 'contact', mode: 'create', key: 'id', rows: [{ id: contact.id, name: 'Mine' }], dryRun: true });
    expect(JSON.stringify(report)).not.toMatch(/version|stored|concurrently|"actualVersion":\d/);
    // Nothing was written: the hidden records are unchanged.
    expect(await w.root.contacts.get(contact.id)).toMatchObject({ name: 'Hidden 2', ownerId: 'other', version: 2 });
    expect(await w.root.deals.get(deal.id)).toMatchObject({ title: 'Hidden', ownerId: 'other', version: 1 });
    // The trusted crm is still told the stored version.
    expect((await failure(w.root.contacts.create({ id: contact.id, name: 'Again' }))).details).toMatchObject({ actualVersion: 2 });
  });
  it('lead conversion copies no unreadable lead field into the new contact, company or deal, and its messages name none', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP, { lead: { read: { deny: ['email', 'phone', 'expectedValue', 'website'] } } }));
    const lead = await w.root.leads.create({ name: 'Lena', companyName: 'Lena Co', website: 'https://hidden-site.example', email: 'hidden-lead@corp.example', phone: '+33612345678', expectedValue: { amount: 424242, currency: 'EUR' }, ownerId: 'me' });
    const me = w.root.as({ userId: 'me' });
    const result = await me.leads.convert(lead.id, { deal: { title: 'From Lena', pipelineId: w.pipelineId } });
    const text = JSON.stringify(result);
    for (const secret of ['hidden-lead', '612345678', '424242', 'hidden-site']) expect(text).not.toContain(secret);
    // Stored records, read by the trusted crm, have none of them either.
    const contact = await w.root.contacts.get(result.contact.id);
    expect(contact).toMatchObject({ name: 'Lena' });
    expect(contact.email).toBeUndefined();
    expect(contact.phone).toBeUndefined();
    expect((await w.root.deals.get(result.deal!.id)).value?.amount ?? 0).toBe(0);
    expect(JSON.stringify(await w.root.companies.get(result.company!.id))).not.toContain('hidden-site');
    // The currency check does not name the hidden expected value's currency.
    const second = await w.root.leads.create({ name: 'Lars', expectedValue: { amount: 5, currency: 'EUR' }, ownerId: 'me' });
    const converted = await me.leads.convert(second.id, { deal: { title: 'In USD', pipelineId: w.pipelineId, currency: 'USD' } });
    expect(JSON.stringify(converted)).not.toContain('EUR');
    // The trusted crm copies them.
    const third = await w.root.leads.create({ name: 'Lotte', email: 'lotte@corp.example', expectedValue: { amount: 7, currency: 'EUR' }, ownerId: 'me' });
    const full = await w.root.leads.convert(third.id, { deal: { title: 'Lotte', pipelineId: w.pipelineId } });
    expect(full.contact.email).toBe('lotte@corp.example');
    expect(full.deal!.value).toEqual({ amount: 7, currency: 'EUR' });
  });

  it('lead conversion: a hidden company or contact given for the deal or the contact is VALIDATION, as the top-level companyId is', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const hiddenCompany = await w.root.companies.create({ name: 'Hidden Co', ownerId: 'other' });
    const hiddenContact = await w.root.contacts.create({ name: 'Hidden', ownerId: 'other' });
    const me = w.root.as({ userId: 'me' });
    const attempts = {
      companyId: { companyId: hiddenCompany.id },
      'deal.companyId': { deal: { title: 'D', pipelineId: w.pipelineId, companyId: hiddenCompany.id } },
      'deal.contactId': { deal: { title: 'D', pipelineId: w.pipelineId, contactId: hiddenContact.id } },
      'contact.companyId': { contact: { companyId: hiddenCompany.id } },
    };
    for (const [path, options] of Object.entries(attempts)) {
      const lead = await w.root.leads.create({ name: `Lead ${path}`, ownerId: 'me' });
      const error = await failure(me.leads.convert(lead.id, options));
      expect(error.code, path).toBe('VALIDATION');
      expect(JSON.stringify(error.details), path).toContain(path.split('.').at(-1)!);
      expect((await w.root.leads.get(lead.id)).status, path).toBe('new');
    }
    // A readable company given for the deal is linked.
    const mine = await w.root.companies.create({ name: 'Mine Co', ownerId: 'me' });
    const lead = await w.root.leads.create({ name: 'Linked', ownerId: 'me' });
    const result = await me.leads.convert(lead.id, { deal: { title: 'D', pipelineId: w.pipelineId, companyId: mine.id } });
    expect((await w.root.deals.get(result.deal!.id)).companyId).toBe(mine.id);
  });
  it('a hidden probability takes probabilityManual with it (it tells whether the stage probability applies)', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy({ ...SUPPORT, deal: { read: 'all', create: 'all', update: 'all' } }, { deal: { read: { deny: ['probability'] } } }));
    const manual = await w.root.deals.create({ title: 'Manual', pipelineId: w.pipelineId, ownerId: 'other', probability: 35 });
    const me = w.root.as({ userId: 'me' });
    const seen = await me.deals.get(manual.id);
    expect(seen).not.toHaveProperty('probability');
    expect(seen).not.toHaveProperty('probabilityManual');
    const listed = (await me.deals.list({ limit: 100 })).items.find((d) => d.id === manual.id)!;
    expect(listed).not.toHaveProperty('probabilityManual');
    const created = (await me.eventLog.list({ limit: 100 })).items.find((e) => e.type === 'deal.created' && e.subjectId === manual.id)!;
    expect(JSON.stringify(created.data)).not.toContain('probabilityManual');
    expect(await failure(me.deals.list({ where: { op: 'eq', field: 'probabilityManual', value: true } }))).toMatchObject({ code: 'FORBIDDEN' });
    expect((await w.root.deals.get(manual.id)).probabilityManual).toBe(true);
  });
  it("performance({ pipelineId }): postponements count only that pipeline's deals, as its drill-down lists them (views and the system)", async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const other = await w.root.pipelines.create({ name: 'Other', stages: [{ key: 'a', name: 'A' }] });
    const here = await w.root.deals.create({ title: 'Here', pipelineId: w.pipelineId, ownerId: 'me' });
    const there = await w.root.deals.create({ title: 'There', pipelineId: other.id, ownerId: 'me' });
    const me = w.root.as({ userId: 'me' });
    await me.deals.postpone(here.id, { until: '2026-04-01T10:00:00Z' });
    await me.deals.postpone(there.id, { until: '2026-04-01T10:00:00Z' });
    await me.deals.postpone(there.id, { until: '2026-05-01T10:00:00Z' });
    const window = { from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' };
    for (const viewer of [me, w.root]) {
      for (const [pipelineId, expected] of [[w.pipelineId, [here.id]], [other.id, [there.id, there.id]], [undefined, [here.id, there.id, there.id]]] as const) {
        const report = await viewer.reports.performance({ ...window, ...(pipelineId ? { pipelineId } : {}) });
        const row = report.owners.find((o) => o.ownerId === 'me')!;
        expect(row.postponements).toBe(expected.length);
        const drill = await viewer.reports.drill(row.drill.postponements, { limit: 100 });
        expect(drill.items.map((e) => (e as unknown as { subjectId: string }).subjectId).sort()).toEqual([...expected].sort());
      }
    }
  });
  it('a record observer of a view drops the data of a record that becomes hidden (NOT_FOUND)', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const deal = await w.root.deals.create({ title: 'Mine for now', pipelineId: w.pipelineId, ownerId: 'me' });
    const observer = w.root.as({ userId: 'me' }).observe.deal(deal.id);
    const off = observer.subscribe(() => undefined);
    for (let i = 0; i < 100 && observer.getSnapshot().status !== 'success'; i++) await settle();
    expect(observer.getSnapshot().data?.title).toBe('Mine for now');
    await w.root.deals.update(deal.id, { ownerId: 'other', title: 'Secret renamed' });
    for (let i = 0; i < 100 && observer.getSnapshot().status !== 'error'; i++) await settle();
    off();
    const snapshot = observer.getSnapshot();
    expect(snapshot.status).toBe('error');
    expect(snapshot.error && isCrmError(snapshot.error) ? snapshot.error.code : undefined).toBe('NOT_FOUND');
    expect(snapshot.data).toBeUndefined();
  });
}
