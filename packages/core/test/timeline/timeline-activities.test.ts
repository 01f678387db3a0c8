import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

describe('activities', () => {
  it('logs interactions from every channel with direction, participants and links; touches the client card', async () => {
    const { crm, clock } = await createTestCrm();
    await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
    const company = await crm.companies.create({ name: 'Acme' });
    const ada = await crm.contacts.create({ name: 'Ada', companyId: company.id });
    const bob = await crm.contacts.create({ name: 'Bob', companyId: company.id });
    const deal = await crm.deals.create({ title: 'D', contactId: ada.id, companyId: company.id });
    clock.advance(60_000);
    const whatsapp = await crm.activities.log({
      kind: 'message', channel: 'whatsapp', direction: 'inbound', body: 'Can we talk tomorrow?', dealId: deal.id, contactId: ada.id, companyId: company.id,
      participants: [{ contactId: ada.id, address: '+4915112345678' }, { contactId: bob.id }],
    });
    expect(whatsapp).toMatchObject({ kind: 'message', channel: 'whatsapp', direction: 'inbound', ownerId: 'tester', occurredAt: '2026-01-05T09:01:00.000Z' });
    const call = await crm.activities.log({ kind: 'call', direction: 'outbound', durationMinutes: 7, outcome: 'Booked a demo', contactId: bob.id, occurredAt: '2026-01-05T10:30:00+01:00' });
    expect(call.occurredAt).toBe('2026-01-05T09:30:00.000Z');
    expect((await crm.contacts.get(ada.id)).lastInteractionAt).toBe('2026-01-05T09:01:00.000Z');
    expect((await crm.companies.get(company.id)).lastInteractionAt).toBe('2026-01-05T09:01:00.000Z');
    expect((await crm.deals.get(deal.id)).lastActivityAt).toBe('2026-01-05T09:01:00.000Z');
    const inbound = await crm.activities.list({ where: where.eq('direction', 'inbound') });
    expect(inbound.items.map((a) => a.id)).toEqual([whatsapp.id]);
    // Bob was a participant: the message is on his timeline too.
    const bobs = await crm.timeline({ type: 'contact', id: bob.id }, { types: ['activity.logged'] });
    expect(bobs.items.map((e) => e.subjectId)).toEqual([call.id, whatsapp.id]);
    const bad = await expectCrmError(crm.activities.log({ kind: 'fax' as 'call', dealId: 'deal_x', participants: [{ contactId: 'ctc_nope' }] }), 'VALIDATION');
    expect(issuePaths(bad)).toEqual(['kind']);
    const links = await expectCrmError(crm.activities.log({ kind: 'note', dealId: 'deal_x', participants: [{ contactId: 'ctc_nope' }] }), 'VALIDATION');
    expect(issuePaths(links).sort()).toEqual(['dealId', 'participants.0.contactId']);
  });
});

describe('timeline', () => {
  it("a deal's timeline shows activities, tasks, stage changes and field changes, newest first, with a cursor", async () => {
    const { crm, clock } = await createTestCrm();
    await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }] });
    const deal = await crm.deals.create({ title: 'D', value: { amount: 100, currency: 'EUR' } });
    const tick = () => clock.advance(1000);
    tick();
    const task = await crm.tasks.create({ subject: 'Call', dealId: deal.id, dueAt: '2026-01-06T09:00:00Z' });
    tick();
    await crm.activities.log({ kind: 'call', dealId: deal.id });
    tick();
    await crm.tasks.complete(task.id, { outcome: 'done' });
    tick();
    await crm.deals.update(deal.id, { title: 'D2' });
    tick();
    await crm.deals.advance(deal.id);
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await crm.timeline({ type: 'deal', id: deal.id }, { limit: 2, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(all.map((e) => e.type)).toEqual(['deal.stageChanged', 'deal.updated', 'task.completed', 'activity.logged', 'task.created', 'deal.created']);
    expect(all[1]!.data).toEqual({ changes: { title: { from: 'D', to: 'D2' } } });
    expect(all.map((e) => e.at)).toEqual([...all.map((e) => e.at)].sort().reverse());
  });

  it("a company's timeline includes deals linked to it later, and its contacts' history", async () => {
    const { crm } = await createTestCrm();
    await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
    const deal = await crm.deals.create({ title: 'Early' });
    const company = await crm.companies.create({ name: 'Later Co' });
    await crm.deals.update(deal.id, { companyId: company.id });
    const types = (await crm.timeline({ type: 'company', id: company.id })).items.map((e) => `${e.type}:${e.subjectId === deal.id ? 'deal' : 'company'}`);
    expect(types).toEqual(['deal.updated:deal', 'company.created:company', 'deal.created:deal']);
    await expectCrmError(crm.timeline({ type: 'invoice' as 'deal', id: 'x' }), 'VALIDATION');
  });
});
