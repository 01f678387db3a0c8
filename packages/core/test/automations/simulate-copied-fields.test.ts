import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

// Review 18f #5: a run copies the deal's owner and links onto the tasks and activities it creates; a
// view's simulation must not show those copies when the view cannot read them on the deal.
async function setup() {
  const { crm } = await createTestCrm();
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.access.setPolicy({
    roles: {
      // Tasks, activities and contacts are readable in full; the deal's owner and contact are not.
      support: { grants: { deal: { read: 'all' }, contact: { read: 'all' }, task: { read: 'all' }, activity: { read: 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['ownerId', 'contactId'] } } } },
      bot: { grants: { deal: { '*': 'all' }, contact: { '*': 'all' }, task: { '*': 'all' }, activity: { '*': 'all' }, pipeline: { read: 'all' } } },
    },
    defaultRoles: ['bot'],
  } as never);
  const contact = await crm.contacts.create({ name: 'Hidden Contact' } as never);
  const deal = await crm.deals.create({ title: 'Secret', pipelineId: pipeline.id, contactId: contact.id, ownerId: 'zorro-owner' } as never);
  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  const event = (await sue.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.type === 'deal.created')!;
  return { crm, sue, deal, contact, event, pipeline };
}

const rule = {
  name: 'Follow up',
  trigger: { type: 'event' as const, event: 'deal.created' },
  actions: [
    { type: 'createTask' as const, task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' as const }, assignee: { kind: 'dealOwner' as const } } },
    { type: 'logActivity' as const, activity: { kind: 'note' as const, subject: 'Noted' } },
    { type: 'emit' as const, name: 'followUp', data: { step: 1 } },
    { type: 'advance' as const },
  ],
};

type Rec = Record<string, unknown>;

describe('simulate on a view: values copied from the deal', () => {
  it('drops the owner and links the view cannot read on the deal from created tasks, activities and every event ref', async () => {
    const { sue, deal, contact, event } = await setup();
    const sim = await sue.automations.simulate(rule, event);
    expect(sim.matched).toBe(true);
    expect(sim.status).toBe('done');
    const text = JSON.stringify(sim);
    expect(text).not.toContain('zorro-owner');
    expect(text).not.toContain(contact.id);
    // What the view may know stays: the task and activity, linked to the deal it reads.
    const task = (sim.events.find((e) => e.type === 'task.created')!.data as { task: Rec }).task;
    expect(task).toMatchObject({ subject: 'Call', dealId: deal.id });
    expect(task).not.toHaveProperty('ownerId');
    expect(task).not.toHaveProperty('contactId');
    const activity = (sim.events.find((e) => e.type === 'activity.logged')!.data as { activity: Rec }).activity;
    expect(activity).toMatchObject({ subject: 'Noted', dealId: deal.id });
    expect(activity).not.toHaveProperty('contactId');
    expect(sim.events.find((e) => (e.type as string) === 'custom.followUp')!.data).toMatchObject({ name: 'followUp', data: { step: 1 } });
    for (const e of sim.events) expect(e.refs.filter((r) => r.startsWith('contact:'))).toEqual([]);
    expect(sim.events.find((e) => e.type === 'automation.ran')!.refs).toContain(`deal:${deal.id}`);
  });

  it('keeps them for a view that reads them on the deal, and for the crm itself', async () => {
    const { crm, deal, contact, event } = await setup();
    await crm.access.setPolicy({
      roles: { all: { grants: { deal: { read: 'all' }, contact: { read: 'all' }, task: { read: 'all' }, activity: { read: 'all' }, pipeline: { read: 'all' } } }, bot: { grants: { deal: { '*': 'all' }, contact: { '*': 'all' }, task: { '*': 'all' }, activity: { '*': 'all' }, pipeline: { read: 'all' } } } },
      defaultRoles: ['bot'],
    } as never);
    for (const who of [crm.as({ userId: 'ann', roles: ['all'] }), crm]) {
      const sim = await who.automations.simulate(rule, event);
      const task = (sim.events.find((e) => e.type === 'task.created')!.data as { task: Rec }).task;
      expect(task).toMatchObject({ ownerId: 'zorro-owner', contactId: contact.id, dealId: deal.id });
      expect(sim.events.find((e) => e.type === 'activity.logged')!.refs).toContain(`contact:${contact.id}`);
    }
    // Nothing was written.
    expect((await crm.tasks.list({})).items).toEqual([]);
  });
  // Review 18h #2: the cut is the simulation's own (docs/automation.md, "Manual triggers and dry runs").
  it("differs from the real run on purpose: the view reads the real task's copied owner and links, not the simulated one's", async () => {
    const { crm, sue, contact, pipeline } = await setup();
    // A rule starts with the events after it: the real run is for a deal created after the define.
    const stored = await crm.automations.define(rule);
    const deal = await crm.deals.create({ title: 'Secret 2', pipelineId: pipeline.id, contactId: contact.id, ownerId: 'zorro-owner' } as never);
    const event = (await sue.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.type === 'deal.created')!;
    const sim = await sue.automations.simulate(stored.id, event);
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: stored.id })).items.map((r) => r.status)).toEqual(['done']);
    // The same actions, to the same kinds of record …
    const [run] = (await sue.automations.runs({ record: { type: 'deal', id: deal.id } })).items;
    expect(run!.actions.map((a) => a.type)).toEqual(sim.actions.map((a) => a.type));
    const simulated = (sim.events.find((e) => e.type === 'task.created')!.data as { task: Rec }).task;
    const real = ((await sue.events.read({ after: 0, limit: 100, types: ['task.created'] })).events[0]!.data as { task: Rec }).task;
    // … but the real task is a record the view reads by the task's rules (every field), copies included,
    // while the simulation drops what came from the deal's hidden fields: a made-up rule must not probe them.
    expect(real).toMatchObject({ ownerId: 'zorro-owner', contactId: contact.id, dealId: deal.id });
    expect((await sue.tasks.get(real.id as string)).ownerId).toBe('zorro-owner');
    expect(simulated).not.toHaveProperty('ownerId');
    expect(simulated).not.toHaveProperty('contactId');
    expect(simulated).toMatchObject({ subject: 'Call', dealId: deal.id });
  });
});
