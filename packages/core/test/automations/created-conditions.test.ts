import { describe, expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

// Review 18 #11: conditions of *.created rules are read on the current record in the run's transaction, not on the creation snapshot.
describe('conditions of a created-event rule', () => {
  it('hold on the record as it is when the rule runs', async () => {
    const { crm, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'Big', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'value.amount', op: 'gte', value: 100_000 }], actions: [{ type: 'addTag', tag: 'big' }] });
    const grown = await crm.deals.create({ title: 'Grown', pipelineId: pipeline.id, value: { amount: 10, currency: 'EUR' } });
    const shrunk = await crm.deals.create({ title: 'Shrunk', pipelineId: pipeline.id, value: { amount: 200_000, currency: 'EUR' } });
    await crm.deals.update(grown.id, { value: { amount: 150_000, currency: 'EUR' } });
    await crm.deals.update(shrunk.id, { value: { amount: 20, currency: 'EUR' } });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.subjectId)).toEqual([grown.id]);
    expect((await crm.deals.get(grown.id)).tags).toEqual(['big']);
    expect((await crm.deals.get(shrunk.id)).tags).toEqual([]);
  });
});
