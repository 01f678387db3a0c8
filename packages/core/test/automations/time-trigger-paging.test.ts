import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

// Review 18 #3: records a time rule ran for already must not use up the per-tick candidate cap.
describe('time triggers over many records', () => {
  it('timeInStage reaches records behind 2,000 that already ran', async () => {
    const { crm, clock } = await createTestCrm();
    const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const rule = await crm.automations.define({ name: 'old', trigger: { type: 'timeInStage', stage: 'new', for: { amount: 1, unit: 'hours' } }, actions: [{ type: 'emit', name: 'old' }] });
    for (let i = 0; i < 2005; i++) await crm.deals.create({ title: `D${i}`, pipelineId: sales.id });
    clock.advance(2 * 3_600_000);
    let total = (await crm.automations.tick()).runs;
    const late = await crm.deals.create({ title: 'late', pipelineId: sales.id });
    clock.advance(2 * 3_600_000);
    for (let i = 0; i < 3; i++) total += (await crm.automations.tick()).runs;
    expect(total).toBe(2006);
    const { items } = await crm.automations.runs({ ruleId: rule.id, record: { type: 'deal', id: late.id } });
    expect(items.map((r) => r.status)).toEqual(['done']);
  }, 120_000);

  it('taskDue reaches tasks behind 2,000 that already ran', async () => {
    const { crm, clock } = await createTestCrm();
    const rule = await crm.automations.define({ name: 'soon', trigger: { type: 'taskDue', before: { amount: 1, unit: 'days' } }, actions: [{ type: 'emit', name: 'soon' }] });
    const dueAt = new Date(clock.now() + 3 * 86_400_000).toISOString();
    for (let i = 0; i < 2005; i++) await crm.tasks.create({ subject: `T${i}`, type: 'call', dueAt });
    clock.advance(2 * 86_400_000 + 3_600_000);
    let total = (await crm.automations.tick()).runs;
    const late = await crm.tasks.create({ subject: 'late', type: 'call', dueAt });
    for (let i = 0; i < 3; i++) total += (await crm.automations.tick()).runs;
    expect(total).toBe(2006);
    const { items } = await crm.automations.runs({ ruleId: rule.id, record: { type: 'task', id: late.id } });
    expect(items.map((r) => r.status)).toEqual(['done']);
  }, 120_000);
});
