import { describe, expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

// Review 18 #13: ticks count only their own runs; failed time runs back off.
describe('time-trigger ticks', () => {
  it('two concurrent ticks report the runs that happened once in total', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    await crm.automations.define({ name: 'Stuck', trigger: { type: 'timeInStage', stage: 'negotiation', for: { amount: 1, unit: 'days' } }, actions: [{ type: 'addTag', tag: 'stuck' }] });
    for (let i = 0; i < 6; i++) await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id, stageKey: 'negotiation' });
    clock.advance(2 * 86_400_000);
    const [a, b] = await Promise.all([crm.automations.tick(), crm.automations.tick()]);
    expect(a.runs + b.runs).toBe(6);
    expect((await crm.automations.runs()).items).toHaveLength(6);
  });

  it('a failed time run waits for its backoff (resumeAt) before it is tried again', async () => {
    const { crm, clock } = await setupAutomations();
    const strict = await crm.pipelines.create({ name: 'Strict', stages: [{ key: 'a', name: 'A', exitRules: [{ type: 'field', field: 'expectedCloseDate', op: 'present' }] }, { key: 'b', name: 'B' }] });
    const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'timeInStage', stage: 'a', pipelineId: strict.id, for: { amount: 1, unit: 'hours' } }, actions: [{ type: 'advance' }] });
    await crm.deals.create({ title: 'D', pipelineId: strict.id });
    clock.advance(2 * 3_600_000);
    await crm.automations.tick();
    const [failed] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect([failed?.status, failed?.attempts, typeof failed?.resumeAt]).toEqual(['failed', 1, 'string']);
    await crm.automations.tick(); // before resumeAt: not tried
    expect((await crm.automations.runs({ ruleId: rule.id })).items[0]?.attempts).toBe(1);
    clock.advance(2000);
    await crm.automations.tick();
    expect((await crm.automations.runs({ ruleId: rule.id })).items[0]?.attempts).toBe(2);
  });
});
