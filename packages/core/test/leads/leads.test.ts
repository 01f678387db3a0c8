import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { where } from '@crmkit/core';
import { crmWithPipeline, expectCrmError, expectUnchanged, issuePaths } from '../helpers.js';

describe('leads', () => {
  it('creates a new, unassigned lead with normalised search keys and a lead.created event', async () => {
    const { crm } = await createTestCrm();
    const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'Ada.L+shop@GMail.com', phone: '+44 20 7946 0958', companyName: 'Analytical Engines Ltd', source: 'web-form' });
    expect(lead).toMatchObject({ status: 'new', version: 1, tenantId: 'test', tags: [], custom: {} });
    expect(lead.ownerId).toBeUndefined();
    expect(lead.searchKeys).toEqual(['cname:ana', 'cname:eng', 'email:adal@gmail.com', 'name:ada', 'name:lov', 'phone:+442079460958']);
    expect(await crm.leads.get(lead.id)).toEqual(lead);
    const { items } = await crm.eventLog.list({ where: where.eq('subjectId', lead.id) });
    expect(items.map((e) => e.type)).toEqual(['lead.created']);
  });

  it('updates fields, clears with null, skips no-op patches and keeps search keys in step', async () => {
    const { crm } = await createTestCrm();
    const lead = await crm.leads.create({ name: 'Ann', email: 'ann@acme.com', title: 'Chairs' });
    const same = await crm.leads.update(lead.id, { name: 'Ann' });
    expect(same).toBe(lead);
    const next = await crm.leads.update(lead.id, { name: 'Ann Lee', email: null, version: 1 });
    expect(next).toMatchObject({ name: 'Ann Lee', version: 2 });
    expect(next.email).toBeUndefined();
    expect(next.searchKeys).toEqual(['name:ann', 'name:lee']);
    const events = await crm.eventLog.list({ where: where.eq('type', 'lead.updated') });
    expect(events.items[0]!.data).toEqual({ changes: { name: { from: 'Ann', to: 'Ann Lee' }, email: { from: 'ann@acme.com', to: undefined } } });
  });

  it('rejects a stale version with CONFLICT and writes nothing', async () => {
    const t = await createTestCrm();
    const lead = await t.crm.leads.create({ name: 'Ann' });
    await t.crm.leads.update(lead.id, { name: 'Ann B' });
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.leads.update(lead.id, { name: 'Ann C', version: 1 }), 'CONFLICT');
    expect(error.details).toEqual({ entity: 'lead', id: lead.id, expectedVersion: 1, actualVersion: 2 });
    expectUnchanged(t, before);
  });

  it('qualifies and disqualifies by the lifecycle rules', async () => {
    const { crm } = await createTestCrm();
    const lead = await crm.leads.create({ name: 'Bob' });
    const qualified = await crm.leads.qualify(lead.id);
    expect(qualified).toMatchObject({ status: 'qualified', qualifiedAt: expect.any(String) });
    const violation = await expectCrmError(crm.leads.qualify(lead.id), 'RULE_VIOLATION');
    expect(violation.details.violations[0]!.rule).toBe('lead.qualify.status');
    const out = await crm.leads.disqualify(lead.id, { reason: 'Student, no budget' });
    expect(out).toMatchObject({ status: 'disqualified', disqualifyReason: 'Student, no budget' });
    await expectCrmError(crm.leads.convert(lead.id), 'RULE_VIOLATION');
    const again = await crm.leads.qualify(lead.id);
    expect(again.status).toBe('qualified');
    expect(again.disqualifyReason).toBeUndefined();
  });

  it('lists with filters, sorting and cursor pagination', async () => {
    const { crm, clock } = await createTestCrm();
    for (let i = 0; i < 7; i++) {
      await crm.leads.create({ name: `Lead ${i}`, source: i % 2 ? 'checkout' : 'web-form' });
      clock.advance(1000);
    }
    const page1 = await crm.leads.list({ where: where.eq('source', 'web-form'), orderBy: [{ field: 'createdAt' }], limit: 3 });
    expect(page1.items.map((l) => l.name)).toEqual(['Lead 0', 'Lead 2', 'Lead 4']);
    const page2 = await crm.leads.list({ where: where.eq('source', 'web-form'), orderBy: [{ field: 'createdAt' }], limit: 3, cursor: page1.nextCursor });
    expect(page2.items.map((l) => l.name)).toEqual(['Lead 6']);
    expect(page2.nextCursor).toBeUndefined();
    const newest = await crm.leads.list({ limit: 1 });
    expect(newest.items[0]!.name).toBe('Lead 6');
    const error = await expectCrmError(crm.leads.list({ where: where.eq('nope' as 'name', 1), limit: 0 }), 'VALIDATION');
    expect(issuePaths(error).sort()).toEqual(['limit', 'where.field']);
  });

  it('removes leads that were not converted, keeping their events', async () => {
    const { crm } = await crmWithPipeline();
    const lead = await crm.leads.create({ name: 'Gone' });
    await crm.leads.remove(lead.id);
    await expectCrmError(crm.leads.get(lead.id), 'NOT_FOUND');
    const timeline = await crm.timeline({ type: 'lead', id: lead.id });
    expect(timeline.items.map((e) => e.type)).toEqual(['lead.removed', 'lead.created']);
    const converted = await crm.leads.create({ name: 'Kept' });
    await crm.leads.convert(converted.id);
    await expectCrmError(crm.leads.remove(converted.id), 'RULE_VIOLATION');
  });
});

describe('lead conversion', () => {
  it('creates contact, company and deal in one transaction and links them', async () => {
    const { crm, pipelineId } = await crmWithPipeline();
    const lead = await crm.leads.create({
      name: 'Ada Lovelace', email: 'ada@analytical.co.uk', companyName: 'Analytical Engines', source: 'web-form', title: 'Difference engine', country: 'GB', expectedValue: { amount: 250_000, currency: 'GBP' }, tags: ['vip'],
    });
    const result = await crm.leads.convert(lead.id, { deal: true, ownerId: 'manager-1' });
    expect(result.contactCreated && result.companyCreated).toBe(true);
    expect(result.company).toMatchObject({ name: 'Analytical Engines', domain: 'analytical.co.uk', ownerId: 'manager-1', country: 'GB' });
    expect(result.contact).toMatchObject({ name: 'Ada Lovelace', email: 'ada@analytical.co.uk', companyId: result.company!.id, leadId: lead.id, ownerId: 'manager-1', tags: ['vip'], source: 'web-form' });
    expect(result.deal).toMatchObject({
      title: 'Difference engine', pipelineId, stageKey: 'new', contactId: result.contact.id, companyId: result.company!.id, leadId: lead.id,
      value: { amount: 250_000, currency: 'GBP' }, weightedValue: { amount: 25_000, currency: 'GBP' }, ownerId: 'manager-1', status: 'open',
    });
    expect(result.lead).toMatchObject({ status: 'converted', converted: { contactId: result.contact.id, companyId: result.company!.id, dealId: result.deal!.id } });
    expect(await crm.leads.get(lead.id)).toEqual(result.lead);
    await expectCrmError(crm.leads.convert(lead.id), 'RULE_VIOLATION');
  });

  it('links an existing company by e-mail domain, or by normalised name', async () => {
    const { crm } = await crmWithPipeline();
    const acme = await crm.companies.create({ name: 'Acme Corporation', domain: 'acme.com' });
    const byDomain = await crm.leads.convert((await crm.leads.create({ name: 'Ann', email: 'ann@acme.com' })).id);
    expect(byDomain.company?.id).toBe(acme.id);
    expect(byDomain.companyCreated).toBe(false);
    const byName = await crm.leads.convert((await crm.leads.create({ name: 'Bob', email: 'bob@gmail.com', companyName: 'ACME corp.' })).id);
    expect(byName.company?.id).toBe(acme.id);
    const viaWebsite = await crm.leads.convert((await crm.leads.create({ name: 'Cy', website: 'https://www.acme.com/contact' })).id);
    expect(viaWebsite.company?.id).toBe(acme.id);
  });

  it('never matches or creates companies from free mail domains', async () => {
    const { crm } = await crmWithPipeline();
    await crm.companies.create({ name: 'Gmail fan club', domain: 'gmail.com' });
    const result = await crm.leads.convert((await crm.leads.create({ name: 'Dee', email: 'dee@gmail.com' })).id);
    expect(result.company).toBeUndefined();
    expect(result.contact.companyId).toBeUndefined();
  });

  it('honours explicit company, contact and createCompany options', async () => {
    const { crm } = await crmWithPipeline();
    const other = await crm.companies.create({ name: 'Other' });
    const existing = await crm.contacts.create({ name: 'Eve' });
    const linked = await crm.leads.convert((await crm.leads.create({ name: 'Eve', companyName: 'New Co' })).id, { contactId: existing.id, companyId: other.id });
    expect(linked).toMatchObject({ contactCreated: false, companyCreated: false, contact: { id: existing.id }, company: { id: other.id } });
    const none = await crm.leads.convert((await crm.leads.create({ name: 'Fay', companyName: 'Nobody Ltd' })).id, { createCompany: false });
    expect(none.company).toBeUndefined();
    const noCompany = await crm.leads.convert((await crm.leads.create({ name: 'Gus', companyName: 'Other' })).id, { companyId: null });
    expect(noCompany.company).toBeUndefined();
  });

  it('writes nothing when any part fails (unknown pipeline in the deal)', async () => {
    const t = await crmWithPipeline();
    const lead = await t.crm.leads.create({ name: 'Hal', companyName: 'Hal Inc' });
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.leads.convert(lead.id, { deal: { pipelineId: 'pl_missing' } }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['pipelineId']);
    expectUnchanged(t, before);
  });

  it("shows the lead's history on the contact's timeline", async () => {
    const { crm } = await crmWithPipeline();
    const lead = await crm.leads.create({ name: 'Ivy', email: 'ivy@ivy.io' });
    await crm.activities.log({ kind: 'call', leadId: lead.id, outcome: 'Interested' });
    await crm.leads.qualify(lead.id);
    const { contact } = await crm.leads.convert(lead.id);
    const timeline = await crm.timeline({ type: 'contact', id: contact.id });
    expect(timeline.items.map((e) => e.type)).toEqual(['lead.converted', 'contact.created', 'lead.qualified', 'activity.logged', 'lead.created']);
  });
});

describe('duplicate detection', () => {
  it('finds leads, contacts and companies by e-mail, phone, domain and fuzzy name, ranked with reasons', async () => {
    const { crm } = await createTestCrm();
    const lead = await crm.leads.create({ name: 'Jon Smith', email: 'jon.smith@gmail.com', phone: '+7 912 345 67 89' });
    const contact = await crm.contacts.create({ name: 'Jon Smyth', email: 'jonsmith+promo@googlemail.com' });
    const company = await crm.companies.create({ name: 'Smith & Sons', domain: 'smithsons.com' });
    await crm.contacts.create({ name: 'Unrelated Person', email: 'x@y.org' });
    const found = await crm.duplicates.find({ name: 'John Smith', email: 'JonSmith@gmail.com', phone: '+7 (912) 345-67-89' });
    expect(found.map((c) => [c.entity, c.record.id])).toEqual([
      ['lead', lead.id],
      ['contact', contact.id],
    ]);
    expect(found[0]!.reasons.map((r) => r.kind)).toEqual(['email', 'phone', 'name']);
    expect(found[0]!.score).toBeGreaterThan(found[1]!.score);
    const byDomain = await crm.duplicates.find({ email: 'boss@smithsons.com', companyName: 'Smith and Sons' });
    expect(byDomain.map((c) => c.record.id)).toEqual([company.id]);
  });

  it('finds duplicates of an existing lead, excluding itself, with options', async () => {
    const { crm } = await createTestCrm();
    const a = await crm.leads.create({ name: 'Kim Park', phone: '+1 415 555 0100' });
    const b = await crm.leads.create({ name: 'Kim Park', phone: '(415) 555-0100' });
    const found = await crm.duplicates.find(a.id);
    expect(found.map((c) => c.record.id)).toEqual([b.id]);
    expect(await crm.duplicates.find(a.id, { entities: ['contact'] })).toEqual([]);
    await expectCrmError(crm.duplicates.find({}), 'VALIDATION');
    await expectCrmError(crm.duplicates.find(a.id, { minScore: 2 }), 'VALIDATION');
  });
});
