import { describe, expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

// Review 18c #3: records failing a time rule's conditions never use up the per-tick cap (every time trigger).
describe('time triggers skip condition-failing records before the cap', () => {
  it('timeInStage: 2,005 older untagged deals do not crowd out the tagged one', async () => {
    const { crm, pipeline, clock } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'Hot stuck', trigger: { type: 'timeInStage', stage: 'new', for: { amount: 1, unit: 'days' } }, conditions: [{ field: 'tags', op: 'eq', value: 'hot' }], actions: [{ type: 'emit', name: 'stuck' }] });
    for (let i = 0; i < 2005; i++) await crm.deals.create({ title: `cold ${i}`, pipelineId: pipeline.id });
    clock.advance(60_000);
    const hot = await crm.deals.create({ title: 'hot', pipelineId: pipeline.id, tags: ['hot'] });
    clock.advance(2 * 86_400_000);
    expect(await crm.automations.tick()).toEqual({ runs: 1 });
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => [r.subjectId, r.status])).toEqual([[hot.id, 'done']]);
  }, 180_000);

  it('taskDue: 2,005 earlier tasks failing the conditions do not crowd out the matching one', async () => {
    const { crm, clock } = await setupAutomations();
    const due = new Date(Date.parse(new Date(clock.now()).toISOString()) + 3_600_000).toISOString();
    const rule = await crm.automations.define({ name: 'Soon', trigger: { type: 'taskDue', before: { amount: 2, unit: 'hours' } }, conditions: [{ field: 'subject', op: 'eq', value: 'hot' }], actions: [{ type: 'emit', name: 'soon' }] });
    for (let i = 0; i < 2005; i++) await crm.tasks.create({ subject: `cold ${i}`, dueAt: due });
    const hot = await crm.tasks.create({ subject: 'hot', dueAt: new Date(Date.parse(due) + 60_000).toISOString() });
    expect(await crm.automations.tick()).toEqual({ runs: 1 });
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => [r.subjectId, r.status])).toEqual([[hot.id, 'done']]);
  }, 180_000);
});
