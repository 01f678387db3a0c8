import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

/** A manual "advance" rule and a deal it can act on. */
async function manualRuleAndDeal() {
  const { crm } = await createTestCrm();
  const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'advance' }] });
  const deal = await crm.deals.create({ title: 'C', pipelineId: sales.id });
  return { crm, rule, deal };
}

// Review 18 #9: replaying a parked manual run must run it again, not park it silently.
describe('replaying a parked manual run', () => {
  it('runs the manual rule again for the same record', async () => {
    const { crm, rule, deal } = await manualRuleAndDeal();
    // Fails: a lost deal cannot advance, so the manual run is parked.
    await crm.deals.lose(deal.id, { reason: 'price' });
    const failed = await crm.automations.trigger(rule.id, { type: 'deal', id: deal.id });
    expect(failed?.status).toBe('failed');
    expect(failed?.resumeAt).toBeUndefined();
    await crm.deals.reopen(deal.id, { toStage: 'new' });
    expect(await crm.automations.replay(rule.id, [failed!.triggerKey])).toBe(1);
    await crm.automations.drain();
    const { items } = await crm.automations.runs({ ruleId: rule.id });
    expect(items.map((r) => [r.triggerKey, r.status])).toEqual([[failed!.triggerKey, 'done']]);
    expect((await crm.deals.get(deal.id)).stageKey).toBe('offer');
  });

  it('parks it again when the rule is no longer a manual rule for the record type', async () => {
    const { crm, rule, deal } = await manualRuleAndDeal();
    await crm.deals.lose(deal.id, { reason: 'price' });
    const failed = await crm.automations.trigger(rule.id, { type: 'deal', id: deal.id });
    await crm.automations.update(rule.id, { trigger: { type: 'manual', entity: 'lead' }, actions: [{ type: 'addTag', tag: 'x' }] });
    await crm.automations.replay(rule.id, [failed!.triggerKey]);
    await crm.automations.drain();
    const { items } = await crm.automations.runs({ ruleId: rule.id });
    expect(items.map((r) => [r.status, r.resumeAt])).toEqual([['failed', undefined]]);
  });
});
