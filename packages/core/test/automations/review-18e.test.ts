import { describe, expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

// Fifth review of issue 18 (review18e): one test per item fixed.
describe('review 18e #5: an edit with the same trigger keeps the rule its place in the feed', () => {
  it('a trigger written with its keys in another order is the same trigger (pending events still run)', async () => {
    const { crm, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'Tag', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'addTag', tag: 'x' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.deals.advance(deal.id);
    await crm.automations.update(rule.id, { name: 'Tag 2', trigger: { stage: 'proposal', type: 'stageEntered' } });
    await crm.automations.drain();
    const log = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(log.map((r) => [r.subjectId, r.status])).toEqual([[deal.id, 'done']]);
    expect((await crm.deals.get(deal.id)).tags).toContain('x');
  });

  it('nested keys in another order too (timeInStage for)', async () => {
    const { crm, pipeline } = await setupAutomations();
    const trigger = { type: 'timeInStage', stage: 'proposal', pipelineId: pipeline.id, for: { amount: 1, unit: 'days' } } as const;
    const rule = await crm.automations.define({ name: 'Stuck', trigger, actions: [{ type: 'addTag', tag: 'x' }] });
    const before = (await crm.automations.get(rule.id)).since;
    await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.automations.update(rule.id, { name: 'Stuck 2', trigger: { for: { unit: 'days', amount: 1 }, pipelineId: pipeline.id, stage: 'proposal', type: 'timeInStage' } });
    expect((await crm.automations.get(rule.id)).since).toBe(before);
  });

  it('a changed trigger still starts from now', async () => {
    const { crm, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'Tag', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'addTag', tag: 'x' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.deals.advance(deal.id);
    await crm.automations.update(rule.id, { trigger: { stage: 'negotiation', type: 'stageEntered' } });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items).toEqual([]);
  });
});
