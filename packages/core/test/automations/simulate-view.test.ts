import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

// Review 18 #1: simulate on a view must not reveal fields the view cannot read.
async function setup() {
  const { crm } = await createTestCrm();
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.access.setPolicy({
    roles: {
      support: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['value', 'weightedValue'] } } } },
      bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' } } },
    },
    defaultRoles: ['bot'],
  } as never);
  const deal = await crm.deals.create({ title: 'Secret', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 777_000, currency: 'EUR' } });
  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  const event = (await sue.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.type === 'deal.created')!;
  return { crm, sue, deal, event };
}

describe('simulate on an access-controlled view', () => {
  it('refuses a condition on a field the view cannot read (FORBIDDEN)', async () => {
    const { sue, event } = await setup();
    const rule = { name: 'S', trigger: { type: 'event' as const, event: 'deal.created' }, conditions: [{ field: 'value.amount', op: 'gt' as const, value: 500_000 }], actions: [{ type: 'emit' as const, name: 'x' }] };
    const error = await sue.automations.simulate(rule, event).then(() => undefined, (e: unknown) => e);
    expect(isCrmError(error, 'FORBIDDEN')).toBe(true);
    // A readable field is fine.
    const ok = await sue.automations.simulate({ ...rule, conditions: [{ field: 'title', op: 'eq' as const, value: 'Secret' }] }, event);
    expect(ok.matched).toBe(true);
  });

  it('projects the simulated events for the view', async () => {
    const { crm, sue, deal, event } = await setup();
    const rule = { name: 'S2', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'updateFields' as const, set: { value: { amount: 1, currency: 'EUR' }, title: 'Renamed' } }] };
    const seen = await sue.automations.simulate(rule, event);
    expect(seen.matched).toBe(true);
    expect(JSON.stringify(seen.events)).not.toContain('777000');
    const updated = seen.events.find((e) => e.type === 'deal.updated')!;
    expect((updated.data as { changes: Record<string, unknown> }).changes).not.toHaveProperty('value');
    expect((updated.data as { changes: Record<string, unknown> }).changes).toHaveProperty('title');
    // The crm itself sees everything, and nothing was written.
    const full = await crm.automations.simulate(rule, event);
    expect(JSON.stringify(full.events)).toContain('777000');
    expect((await crm.deals.get(deal.id)).value).toEqual({ amount: 777_000, currency: 'EUR' });
  });
});
