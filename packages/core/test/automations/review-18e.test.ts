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

const HOUR = 3_600_000;
const ranOn = async (crm: Awaited<ReturnType<typeof setupAutomations>>['crm'], ref: { type: string; id: string }) =>
  // Newest first.
  (await crm.timeline(ref as never)).items.filter((e) => e.type === 'automation.ran').map((e) => (e.data as { status: string }).status);

describe('review 18e #6: every run outcome reaches the linked records\' timelines', () => {
  it('a waiting task run cancelled by disable is on the task\'s deal timeline', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    const rule = await crm.automations.define({ name: 'Soon', trigger: { type: 'taskDue', before: { amount: 2, unit: 'hours' } }, actions: [{ type: 'emit', name: 'soon' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'emit', name: 'later' }] });
    await crm.tasks.create({ subject: 't', type: 'call', dealId: deal.id, dueAt: new Date(clock.now() + 3 * HOUR).toISOString() });
    clock.advance(2 * HOUR);
    await crm.automations.tick();
    await crm.automations.disable(rule.id);
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.status)).toEqual(['cancelled']);
    expect(await ranOn(crm, { type: 'deal', id: deal.id })).toEqual(['cancelled', 'waiting']);
  });

  it('a failed run and its discard are on the deal\'s contact timeline', async () => {
    const { crm, pipeline } = await setupAutomations();
    const contact = await crm.contacts.create({ name: 'Ann Lee' });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, contactId: contact.id });
    const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'advance' }] });
    await crm.deals.lose(deal.id, { reason: 'price' });
    const failed = await crm.automations.trigger(rule.id, { type: 'deal', id: deal.id });
    expect(failed?.status).toBe('failed');
    expect(await ranOn(crm, { type: 'contact', id: contact.id })).toEqual(['failed']);
    expect(await crm.automations.discard(rule.id, [failed!.triggerKey])).toBe(1);
    expect(await ranOn(crm, { type: 'contact', id: contact.id })).toEqual(['cancelled', 'failed']);
    expect(await ranOn(crm, { type: 'deal', id: deal.id })).toEqual(['cancelled', 'failed']);
  });
});

describe('review 18e #3: the rate limit counts every run that started in the window, whatever its status now', () => {
  const MIN = 60_000;
  const started = async (crm: Awaited<ReturnType<typeof setupAutomations>>['crm'], ruleId: string) =>
    (await crm.automations.runs({ ruleId })).items.filter((r) => r.actions.some((a) => a.type === 'emit')).length;

  it('a run whose continuation failed still counts', async () => {
    const { crm, clock } = await setupAutomations();
    const gated = await crm.pipelines.create({ name: 'Gated', stages: [{ key: 'new', name: 'New' }, { key: 'check', name: 'Check', entryRules: [{ type: 'hasContact' }] }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const rule = await crm.automations.define({ name: 'One per hour', trigger: { type: 'event', event: 'deal.created' }, rateLimit: { max: 1, perMinutes: 60 },
      actions: [{ type: 'emit', name: 'hello' }, { type: 'wait', for: { amount: 10, unit: 'minutes' } }, { type: 'advance' }] });
    await crm.deals.create({ title: 'A', pipelineId: gated.id });
    await crm.automations.drain();
    clock.advance(11 * MIN);
    await crm.automations.tick();
    const [failed] = (await crm.automations.runs({ ruleId: rule.id, status: 'failed' })).items;
    expect(failed?.ranAt).toBeDefined();
    clock.advance(MIN);
    const b = await crm.deals.create({ title: 'B', pipelineId: gated.id });
    await crm.automations.drain();
    expect(await started(crm, rule.id)).toBe(1);
    expect((await crm.automations.runs({ ruleId: rule.id })).items.find((r) => r.subjectId === b.id)?.reason).toMatch(/^rateLimited/);
  });

  it('a waiting run cancelled by disable still counts after enable', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'One per hour', trigger: { type: 'event', event: 'deal.created' }, rateLimit: { max: 1, perMinutes: 60 },
      actions: [{ type: 'emit', name: 'hello' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'addTag', tag: 'x' }] });
    await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.automations.drain();
    await crm.automations.disable(rule.id);
    await crm.automations.enable(rule.id);
    clock.advance(MIN);
    await crm.deals.create({ title: 'B', pipelineId: pipeline.id });
    await crm.automations.drain();
    expect(await started(crm, rule.id)).toBe(1);
    // Past the window the next one runs.
    clock.advance(60 * MIN);
    await crm.deals.create({ title: 'C', pipelineId: pipeline.id });
    await crm.automations.drain();
    expect(await started(crm, rule.id)).toBe(2);
  });

  it('a run that failed before it ran does not count', async () => {
    const { crm, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'One per hour', trigger: { type: 'manual', entity: 'deal' }, rateLimit: { max: 1, perMinutes: 60 }, actions: [{ type: 'advance' }] });
    const lost = await crm.deals.create({ title: 'L', pipelineId: pipeline.id });
    await crm.deals.lose(lost.id, { reason: 'price' });
    expect((await crm.automations.trigger(rule.id, { type: 'deal', id: lost.id }))?.status).toBe('failed');
    const open = await crm.deals.create({ title: 'O', pipelineId: pipeline.id });
    expect((await crm.automations.trigger(rule.id, { type: 'deal', id: open.id }))?.status).toBe('done');
  });
});

describe('review 18e #2: a time trigger that can never fire is refused', () => {
  it('timeInStage on a won or lost stage: VALIDATION at trigger.stage on define and update, nothing stored', async () => {
    const { crm, pipeline } = await setupAutomations();
    for (const stage of ['won', 'lost']) {
      const error = await crm.automations.define({ name: 'After', trigger: { type: 'timeInStage', stage, for: { amount: 30, unit: 'days' } }, actions: [{ type: 'emit', name: 'x' }] }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ path: ['trigger', 'stage'] })] } });
    }
    expect(await crm.automations.list()).toEqual([]);
    const rule = await crm.automations.define({ name: 'Stuck', trigger: { type: 'timeInStage', stage: 'proposal', pipelineId: pipeline.id, for: { amount: 1, unit: 'days' } }, actions: [{ type: 'emit', name: 'x' }] });
    const error = await crm.automations.update(rule.id, { trigger: { type: 'timeInStage', stage: 'won', pipelineId: pipeline.id, for: { amount: 1, unit: 'days' } } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ path: ['trigger', 'stage'] })] } });
    expect((await crm.automations.get(rule.id)).trigger).toMatchObject({ stage: 'proposal' });
  });

  it('a stage key that is open in another pipeline is accepted (it fires there)', async () => {
    const { crm } = await setupAutomations();
    await crm.pipelines.create({ name: 'Renewals', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won back' }, { key: 'done', name: 'Done', kind: 'won' }, { key: 'gone', name: 'Gone', kind: 'lost' }] });
    const rule = await crm.automations.define({ name: 'After', trigger: { type: 'timeInStage', stage: 'won', for: { amount: 1, unit: 'days' } }, actions: [{ type: 'emit', name: 'x' }] });
    expect(rule.trigger).toMatchObject({ stage: 'won' });
  });
});

describe('review 18e #4: a due record failing its conditions is read again by the next sweep', () => {
  const DAY = 24 * HOUR;
  it('a trigger.at condition that comes to hold without a write fires on the tick after', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    const start = new Date(clock.now() + 3 * DAY).toISOString();
    const rule = await crm.automations.define({ name: 'From campaign start', trigger: { type: 'timeInStage', stage: 'new', for: { amount: 1, unit: 'hours' } }, conditions: [{ field: 'trigger.at', op: 'gte', value: start }], actions: [{ type: 'addTag', tag: 'nudged' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    const ticks: number[] = [];
    for (let d = 0; d < 5; d++) {
      clock.advance(DAY);
      ticks.push((await crm.automations.tick()).runs);
    }
    expect(ticks).toEqual([0, 0, 1, 0, 0]);
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => [r.subjectId, r.status])).toEqual([[deal.id, 'done']]);
    expect((await crm.deals.get(deal.id)).tags).toContain('nudged');
  });
});
