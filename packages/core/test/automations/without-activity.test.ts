import { describe, expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

// Review 18 #10: withoutActivity counts activities logged on the deal, not field updates or the rules' own writes.
describe('timeInStage withoutActivity', () => {
  it('fires for a deal whose only changes since it entered were field updates and automation writes; not after a logged call', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    await crm.automations.define({ name: 'Tag on update', trigger: { type: 'fieldChanged', entity: 'deal', field: 'title' }, actions: [{ type: 'addTag', tag: 'renamed' }, { type: 'logActivity', activity: { kind: 'note', subject: 'renamed by a rule' } }] });
    const stuck = await crm.automations.define({ name: 'Stuck', trigger: { type: 'timeInStage', stage: 'negotiation', for: { amount: 3, unit: 'days' }, withoutActivity: true }, actions: [{ type: 'emit', name: 'stuck' }] });
    const edited = await crm.deals.create({ title: 'Edited', pipelineId: pipeline.id, stageKey: 'negotiation' });
    const called = await crm.deals.create({ title: 'Called', pipelineId: pipeline.id, stageKey: 'negotiation' });
    clock.advance(86_400_000);
    await crm.deals.update(edited.id, { title: 'Edited again', probability: 55 });
    await crm.automations.drain(); // the rule tags the deal and logs a note as the service principal
    expect((await crm.deals.get(edited.id)).tags).toEqual(['renamed']);
    await crm.activities.log({ kind: 'call', dealId: called.id });
    clock.advance(3 * 86_400_000);
    await crm.automations.tick();
    const runs = (await crm.automations.runs({ ruleId: stuck.id })).items;
    expect(runs.map((r) => [r.subjectId, r.status])).toEqual([[edited.id, 'done']]);
  });
});
