import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

// Review 18 #4: fieldChanged rules that were accepted but could never fire.
async function setup() {
  const t = await createTestCrm();
  const sales = await t.crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  return { ...t, sales };
}

describe('fieldChanged on nested paths and other ways a field changes', () => {
  it('fires for a nested path (value.amount) only when that part changed', async () => {
    const { crm, sales } = await setup();
    const rule = await crm.automations.define({ name: 'amt', trigger: { type: 'fieldChanged', entity: 'deal', field: 'value.amount' }, actions: [{ type: 'addTag', tag: 'amt' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: sales.id, value: { amount: 100, currency: 'EUR' } });
    await crm.deals.update(deal.id, { value: { amount: 100, currency: 'USD' } });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items).toEqual([]);
    await crm.deals.update(deal.id, { value: { amount: 250, currency: 'USD' } });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.status)).toEqual(['done']);
    expect((await crm.deals.get(deal.id)).tags).toEqual(['amt']);
  });

  it('fires for ownerId when an assignment (deal.assigned) changes the owner', async () => {
    const { crm, sales } = await setup();
    const strategy = await crm.assignment.createStrategy({ name: 'rr', entity: 'deal', kind: 'roundRobin', owners: [{ userId: 'anna' }] } as never);
    const rule = await crm.automations.define({ name: 'own', trigger: { type: 'fieldChanged', entity: 'deal', field: 'ownerId', to: 'anna' }, actions: [{ type: 'addTag', tag: 'owned' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: sales.id });
    await crm.assignment.assign({ type: 'deal', id: deal.id }, (strategy as { id: string }).id);
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.status)).toEqual(['done']);
    expect((await crm.deals.get(deal.id)).tags).toEqual(['owned']);
  });

  it('refuses stageKey and status of deals (funnel moves have their own triggers)', async () => {
    const { crm } = await setup();
    for (const field of ['stageKey', 'status']) {
      const error = await crm.automations.define({ name: 's', trigger: { type: 'fieldChanged', entity: 'deal', field }, actions: [{ type: 'addTag', tag: 'x' }] }).then(() => undefined, (e: unknown) => e);
      expect(isCrmError(error, 'VALIDATION')).toBe(true);
    }
    expect(await crm.automations.list()).toEqual([]);
  });
});

// Review 18 #8 (part): an updateFields action that sets nothing.
describe('updateFields define-time check', () => {
  it('refuses an empty set', async () => {
    const { crm } = await setup();
    const error = await crm.automations.define({ name: 'e', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'updateFields', set: {} }] }).then(() => undefined, (e: unknown) => e);
    expect(isCrmError(error, 'VALIDATION')).toBe(true);
    expect(await crm.automations.list()).toEqual([]);
  });
});
