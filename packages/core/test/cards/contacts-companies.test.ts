import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { crmWithPipeline, expectCrmError, expectUnchanged, issuePaths } from '../helpers.js';

describe('contacts', () => {
  it('creates, reads, updates and lists contacts owned by the acting user', async () => {
    const { crm } = await createTestCrm();
    const acme = await crm.companies.create({ name: 'Acme', domain: 'WWW.Acme.COM' });
    expect(acme.domain).toBe('acme.com');
    const ada = await crm.contacts.create({ name: 'Ada', email: 'ada@acme.com', companyId: acme.id, jobTitle: 'CTO' });
    expect(ada).toMatchObject({ ownerId: 'tester', companyId: acme.id, version: 1 });
    const moved = await crm.contacts.update(ada.id, { jobTitle: null, ownerId: 'u2', version: 1 });
    expect(moved.jobTitle).toBeUndefined();
    expect(moved).toMatchObject({ ownerId: 'u2', version: 2 });
    const page = await crm.contacts.list({ where: where.eq('companyId', acme.id) });
    expect(page.items.map((c) => c.id)).toEqual([ada.id]);
  });

  it('rejects links to companies that do not exist, with the path', async () => {
    const t = await createTestCrm();
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.contacts.create({ name: 'Bo', companyId: 'co_missing' }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['companyId']);
    expectUnchanged(t, before);
  });

  it('refuses to remove a contact with deals, removes one without', async () => {
    const { crm } = await crmWithPipeline();
    const withDeal = await crm.contacts.create({ name: 'Cy' });
    const deal = await crm.deals.create({ title: 'D', contactId: withDeal.id });
    const error = await expectCrmError(crm.contacts.remove(withDeal.id), 'RULE_VIOLATION');
    expect(error.details.violations[0]).toMatchObject({ rule: 'contact.hasDeals', data: { dealIds: [deal.id] } });
    const lonely = await crm.contacts.create({ name: 'Di' });
    await crm.contacts.remove(lonely.id, { version: 1 });
    await expectCrmError(crm.contacts.get(lonely.id), 'NOT_FOUND');
    const timeline = await crm.timeline({ type: 'contact', id: lonely.id });
    expect(timeline.items.map((e) => e.type)).toEqual(['contact.removed', 'contact.created']);
  });
});

describe('companies', () => {
  it('refuses to remove a company with contacts or deals, listing both', async () => {
    const { crm } = await crmWithPipeline();
    const co = await crm.companies.create({ name: 'Busy' });
    await crm.contacts.create({ name: 'E', companyId: co.id });
    await crm.deals.create({ title: 'D', companyId: co.id });
    const error = await expectCrmError(crm.companies.remove(co.id), 'RULE_VIOLATION');
    expect(error.details.violations.map((v) => v.rule)).toEqual(['company.hasContacts', 'company.hasDeals']);
    const empty = await crm.companies.create({ name: 'Empty' });
    await crm.companies.remove(empty.id);
    await expectCrmError(crm.companies.get(empty.id), 'NOT_FOUND');
  });

  it("shows contacts' and deals' events on the company timeline, newest first, paginated", async () => {
    const { crm, clock } = await crmWithPipeline();
    const co = await crm.companies.create({ name: 'Timeline Co' });
    clock.advance(1000);
    const contact = await crm.contacts.create({ name: 'F', companyId: co.id });
    clock.advance(1000);
    await crm.activities.log({ kind: 'email', contactId: contact.id, direction: 'inbound', subject: 'Hello' });
    clock.advance(1000);
    await crm.deals.create({ title: 'Big', companyId: co.id });
    const first = await crm.timeline({ type: 'company', id: co.id }, { limit: 2 });
    expect(first.items.map((e) => e.type)).toEqual(['deal.created', 'activity.logged']);
    const second = await crm.timeline({ type: 'company', id: co.id }, { limit: 2, cursor: first.nextCursor });
    expect(second.items.map((e) => e.type)).toEqual(['contact.created', 'company.created']);
    expect(second.nextCursor).toBeUndefined();
    const calls = await crm.timeline({ type: 'company', id: co.id }, { types: ['activity.logged'] });
    expect(calls.items).toHaveLength(1);
  });
});
