import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

// Review 18c #4: simulate on a view must not reveal hidden data through stage rules, activities or action details.
async function setup() {
  const { crm, clock } = await createTestCrm();
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'big', name: 'Big', entryRules: [{ type: 'field', field: 'value.amount', op: 'gte', value: 500_000 }] }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  const plain = await crm.pipelines.create({ name: 'Plain', stages: [{ key: 'new', name: 'New' }, { key: 'next', name: 'Next' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.access.setPolicy({
    roles: {
      support: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['value', 'weightedValue', 'ownerId'] } } } },
      auditor: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' }, activity: { read: 'all' } } },
      bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' }, activity: { '*': 'all' }, task: { '*': 'all' } } },
    },
    defaultRoles: ['bot'],
  } as never);
  const big = await crm.deals.create({ title: 'Big', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 777_000, currency: 'EUR' } });
  const small = await crm.deals.create({ title: 'Small', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 10, currency: 'EUR' } });
  const other = await crm.deals.create({ title: 'Other', pipelineId: plain.id, ownerId: 'anna', value: { amount: 10, currency: 'EUR' } });
  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  const ada = crm.as({ userId: 'ada', roles: ['auditor'] });
  const created = async (id: string) => (await sue.timeline({ type: 'deal', id })).items.find((e) => e.type === 'deal.created')!;
  return { crm, clock, sue, ada, big, small, other, created };
}
const forbidden = (p: Promise<unknown>) => p.then(() => 'allowed', (e: unknown) => (isCrmError(e, 'FORBIDDEN') ? 'FORBIDDEN' : `${String(e)}`));

describe('simulate on a view: outcomes that depend on hidden data', () => {
  it('refuses advance / lose when the pipeline\'s stage rules test a field the view cannot read; the service principal still simulates', async () => {
    const { crm, sue, big, small, other, created } = await setup();
    const rule = { name: 'A', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'advance' as const, toStage: 'big' }] };
    expect(await forbidden(sue.automations.simulate(rule, await created(big.id)))).toBe('FORBIDDEN');
    expect(await forbidden(sue.automations.simulate(rule, await created(small.id)))).toBe('FORBIDDEN');
    expect(await forbidden(sue.automations.simulate({ ...rule, actions: [{ type: 'lose', reason: 'price' }] }, await created(small.id)))).toBe('FORBIDDEN');
    // Without a stage move the rules do not apply; a pipeline without hidden-field rules simulates.
    expect((await sue.automations.simulate({ ...rule, actions: [{ type: 'emit', name: 'x' }] }, await created(small.id))).status).toBe('done');
    expect((await sue.automations.simulate({ ...rule, actions: [{ type: 'advance' }] }, await created(other.id))).status).toBe('done');
    // The service principal sees everything.
    expect((await crm.automations.simulate(rule, await created(big.id))).status).toBe('done');
    expect((await crm.automations.simulate(rule, await created(small.id))).status).toBe('failed');
  });

  it('refuses withoutActivity to a view that cannot read every activity; a view that can simulates', async () => {
    const { crm, clock, sue, ada, small } = await setup();
    clock.advance(3_600_000);
    await crm.activities.log({ kind: 'call', subject: 'private', dealId: small.id });
    clock.advance(20 * 86_400_000);
    const rule = { name: 'T', trigger: { type: 'timeInStage' as const, stage: 'new', for: { amount: 1, unit: 'days' as const }, withoutActivity: true }, actions: [{ type: 'emit' as const, name: 'x' }] };
    const event = (await sue.timeline({ type: 'deal', id: small.id })).items[0]!;
    expect(await forbidden(sue.automations.simulate(rule, event))).toBe('FORBIDDEN');
    expect((await sue.automations.simulate({ ...rule, trigger: { ...rule.trigger, withoutActivity: false } }, event)).matched).toBe(true);
    expect((await ada.automations.simulate(rule, event)).matched).toBe(false);
  });

  it('leaves out action details that are values of fields the view cannot read', async () => {
    const { crm, sue, ada, small, created } = await setup();
    const rule = { name: 'O', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'assignOwner' as const, userId: 'zoe' }, { type: 'addTag' as const, tag: 't' }] };
    const event = await created(small.id);
    expect((await sue.automations.simulate(rule, event)).actions).toEqual([{ type: 'assignOwner', ref: `deal:${small.id}` }, { type: 'addTag', ref: `deal:${small.id}`, detail: 't' }]);
    expect((await ada.automations.simulate(rule, event)).actions[0]).toEqual({ type: 'assignOwner', ref: `deal:${small.id}`, detail: 'zoe' });
    expect((await crm.automations.simulate(rule, event)).actions[0]!.detail).toBe('zoe');
  });
});
