import { expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

it('records a merge undo restores are back, not new: *.created rules do not run for them again', async () => {
  const { crm, messenger } = await setupAutomations();
  const rr = await crm.assignment.createStrategy({ name: 'RR', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'anna' }, { userId: 'ben' }] });
  const welcome = await crm.automations.define({ name: 'Web lead', trigger: { type: 'event', event: 'lead.created' }, conditions: [{ field: 'source', op: 'eq', value: 'web-form' }], actions: [{ type: 'assignOwner', strategyId: rr.id }, { type: 'sendMessage', channel: 'email', template: 'welcome' }] });
  const contactRule = await crm.automations.define({ name: 'New contact', trigger: { type: 'event', event: 'contact.created' }, actions: [{ type: 'addTag', tag: 'welcomed' }] });
  const a = await crm.leads.create({ name: 'Ada', source: 'web-form' });
  const b = await crm.leads.create({ name: 'Ada L', email: 'ada@example.com', source: 'web-form' });
  const c1 = await crm.contacts.create({ name: 'Bo X' });
  const c2 = await crm.contacts.create({ name: 'Bo Y' });
  await crm.automations.drain();
  const ownerOfB = (await crm.leads.get(b.id)).ownerId;
  expect(messenger.sent).toHaveLength(2);
  const leads = await crm.merges.leads(a.id, [b.id], { fillEmpty: true });
  const contacts = await crm.merges.contacts(c1.id, [c2.id]);
  await crm.automations.drain();
  await crm.merges.undo(leads.merge.id);
  await crm.merges.undo(contacts.merge.id);
  await crm.automations.drain();
  // One welcome per lead, one run per contact; the restored lead keeps its owner.
  expect(messenger.sent).toHaveLength(2);
  expect((await crm.automations.runs({ ruleId: welcome.id })).items.map((r) => r.subjectId).sort()).toEqual([a.id, b.id].sort());
  expect((await crm.automations.runs({ ruleId: contactRule.id })).items).toHaveLength(2);
  expect((await crm.leads.get(b.id)).ownerId).toBe(ownerOfB);
  // The restored record's event says so (feeds and webhooks still see the record appear again).
  const created = (await crm.events.read({ after: 0, limit: 200, types: ['lead.created'] })).events.filter((e) => e.subjectId === b.id);
  expect(created.map((e) => (e.data as { restoredBy?: string }).restoredBy)).toEqual([undefined, leads.merge.id]);
});
