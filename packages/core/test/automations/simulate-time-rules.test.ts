import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { setupAutomations } from './automation-setup.js';

// Review 18 #12: time rules are simulable for a record; a rule for another record type is refused.
describe('simulate time and manual rules', () => {
  it('timeInStage: matched once the deal has been in the stage long enough', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    const rule = { name: 'Stuck', trigger: { type: 'timeInStage' as const, stage: 'negotiation', for: { amount: 3, unit: 'days' as const } }, actions: [{ type: 'addTag' as const, tag: 'stuck' }] };
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id, stageKey: 'negotiation' });
    const [created] = (await crm.timeline({ type: 'deal', id: deal.id })).items;
    expect((await crm.automations.simulate(rule, created!)).matched).toBe(false);
    clock.advance(3 * 86_400_000);
    const sim = await crm.automations.simulate(rule, created!);
    expect([sim.matched, sim.status, sim.actions.map((a) => a.type)]).toEqual([true, 'done', ['addTag']]);
    expect((await crm.deals.get(deal.id)).tags).toEqual([]);
  });

  it('taskDue: matched within the lead time of the due time', async () => {
    const { crm, clock } = await setupAutomations();
    const rule = { name: 'Soon', trigger: { type: 'taskDue' as const, before: { amount: 1, unit: 'days' as const } }, actions: [{ type: 'emit' as const, name: 'soon' }] };
    const task = await crm.tasks.create({ subject: 'Call', dueAt: new Date(clock.now() + 3 * 86_400_000).toISOString() });
    const created = (await crm.events.read({ after: 0, limit: 100, types: ['task.created'] })).events.find((e) => e.subjectId === task.id);
    expect((await crm.automations.simulate(rule, created!)).matched).toBe(false);
    clock.advance(2.5 * 86_400_000);
    const sim = await crm.automations.simulate(rule, created!);
    expect([sim.matched, sim.events.map((e) => e.type)]).toEqual([true, ['custom.soon', 'automation.ran']]);
  });

  it('a rule for another record type than the event’s is refused with VALIDATION, not run', async () => {
    const { crm, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    const [created] = (await crm.timeline({ type: 'deal', id: deal.id })).items;
    for (const trigger of [{ type: 'manual', entity: 'lead' }, { type: 'taskDue', before: { amount: 1, unit: 'days' } }]) {
      const error = await crm.automations.simulate({ name: 'x', trigger, actions: [{ type: 'emit', name: 'x' }] } as never, created!).then(() => undefined, (e: unknown) => e);
      expect(isCrmError(error, 'VALIDATION') && error.details.issues[0]).toMatchObject({ path: ['event', 'subjectType'] });
    }
  });
});
