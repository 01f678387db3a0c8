import { describe, expect, it } from 'vitest';
import { where, type StageVisit, type Task } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError } from '../helpers.js';

const DAY = 86_400_000;

async function setup(settings: { strictNextStep?: boolean; allowSkip?: boolean } = {}) {
  const t = await createTestCrm({ now: '2026-03-02T09:00:00.000Z' }); // a Monday
  await t.crm.calendar.set({ timezone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '18:00' }], holidays: [] });
  const pipeline = await t.crm.pipelines.create({
    name: 'B2B',
    settings,
    stages: [
      { key: 'new', name: 'New', probability: 10, rottenDays: 3 },
      {
        key: 'qualified', name: 'Qualified', probability: 30, rottenDays: 7,
        entryRules: [{ type: 'hasContact' }],
        exitRules: [{ type: 'requiredTasksDone' }],
        taskTemplates: [
          { subject: 'Discovery call', type: 'call', due: { amount: 2, unit: 'businessDays', at: '10:00' }, required: true },
          { subject: 'Send brochure', type: 'email', due: { amount: 4, unit: 'workingHours' }, assignee: { kind: 'user', userId: 'assistant' } },
        ],
      },
      { key: 'proposal', name: 'Proposal', probability: 60, entryRules: [{ type: 'hasLineItems' }, { type: 'field', field: 'expectedCloseDate', op: 'present' }] },
    ],
  });
  const contact = await t.crm.contacts.create({ name: 'Ada' });
  return { ...t, pipeline, contact };
}

const visits = async (crm: Awaited<ReturnType<typeof setup>>['crm'], dealId: string) =>
  (await crm.eventLog.list({ where: where.eq('subjectId', dealId), orderBy: [{ field: 'at' }, { field: 'id' }] })).items.map((e) => e.type);

describe('funnel moves through the services', () => {
  it('advances, creating template tasks with business-calendar due times and recording stage visits', async () => {
    const { crm, clock, contact } = await setup();
    const deal = await crm.deals.create({ title: 'Fleet', contactId: contact.id, value: { amount: 10_000_00, currency: 'EUR' } });
    clock.advance(3_600_000);
    const moved = await crm.deals.advance(deal.id);
    expect(moved).toMatchObject({ stageKey: 'qualified', probability: 30, weightedValue: { amount: 3_000_00 }, version: 2, stageEnteredAt: '2026-03-02T10:00:00.000Z' });
    const tasks = (await crm.eventLog.list({ where: where.eq('type', 'task.created') })).items.map((e) => (e.data as { task: Task }).task);
    expect(tasks.map((t) => [t.subject, t.dueAt, t.ownerId, t.required, t.stageKey])).toEqual([
      ['Discovery call', '2026-03-04T09:00:00.000Z', 'tester', true, 'qualified'], // +2 business days at 10:00 Berlin
      ['Send brochure', '2026-03-02T14:00:00.000Z', 'assistant', false, 'qualified'], // +4 working hours from 11:00 Berlin
    ]);
    expect(moved.nextStepDueAt).toBe('2026-03-02T14:00:00.000Z');
    expect(await visits(crm, deal.id)).toEqual(['deal.created', 'deal.stageChanged']);
  });

  it('blocks with RULE_VIOLATION listing every rule and writes nothing; funnel.check explains without writing', async () => {
    const t = await setup();
    const deal = await t.crm.deals.create({ title: 'Bare' });
    const check = await t.crm.funnel.check(deal.id, { type: 'advance', toStage: 'proposal' });
    expect(check).toMatchObject({ allowed: false, direction: 'forward', to: { key: 'proposal' } });
    expect(check.violations.map((v) => v.rule)).toEqual(['stage.entry.hasLineItems', 'stage.entry.field']);
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.deals.advance(deal.id), 'RULE_VIOLATION');
    expect(error.details.violations.map((v) => v.rule)).toEqual(['stage.entry.hasContact']);
    expect(t.storage.snapshot()).toEqual(before);
  });

  it('requires the required tasks of the stage before leaving it', async () => {
    const { crm, contact } = await setup();
    const deal = await crm.deals.create({ title: 'T', contactId: contact.id, lineItems: [{ name: 'x', quantity: 1, unitPrice: 100 }], expectedCloseDate: '2026-06-30' });
    await crm.deals.advance(deal.id);
    const blocked = await expectCrmError(crm.deals.advance(deal.id), 'RULE_VIOLATION');
    expect(blocked.details.violations[0]).toMatchObject({ rule: 'stage.exit.requiredTasksDone', data: { stage: 'qualified' } });
    const ids = (blocked.details.violations[0]!.data as { taskIds: string[] }).taskIds;
    for (const id of ids) await crm.tasks.complete(id, { outcome: 'Budget confirmed' });
    const moved = await crm.deals.advance(deal.id);
    expect(moved.stageKey).toBe('proposal');
  });

  it('postpones the next step, counting per deal and per stage visit', async () => {
    const { crm, clock, contact } = await setup();
    const deal = await crm.deals.create({ title: 'P', contactId: contact.id });
    const first = await crm.deals.postpone(deal.id, { until: '2026-03-05T09:00:00Z', reason: 'Client on holiday' });
    expect(first).toMatchObject({ postponeCount: 1, stagePostponeCount: 1, nextStepDueAt: '2026-03-05T09:00:00.000Z' });
    const followUp = (await crm.eventLog.list({ where: where.eq('type', 'task.created') })).items.at(-1)!.data as { task: Task };
    expect(followUp.task).toMatchObject({ subject: 'Follow up: P', type: 'call', dueAt: '2026-03-05T09:00:00.000Z', dealId: deal.id });
    clock.advance(DAY);
    const second = await crm.deals.postpone(deal.id, { until: '2026-03-09T09:00:00+01:00', reason: 'Budget review' });
    expect(second).toMatchObject({ postponeCount: 2, stagePostponeCount: 2, nextStepDueAt: '2026-03-09T08:00:00.000Z' });
    const postponed = (await crm.eventLog.list({ where: where.eq('type', 'task.postponed') })).items[0]!;
    expect(postponed.data).toEqual({ from: '2026-03-05T09:00:00.000Z', to: '2026-03-09T08:00:00.000Z', reason: 'Budget review', count: 1 });
    await expectCrmError(crm.deals.postpone(deal.id, { until: '2026-03-08T00:00:00Z' }), 'RULE_VIOLATION');
    const advanced = await crm.deals.advance(deal.id);
    expect(advanced).toMatchObject({ postponeCount: 2, stagePostponeCount: 0 });
    const history = await crm.deals.stageHistory(deal.id);
    expect(history.map((v: StageVisit) => [v.stageKey, v.postponeCount, v.exitKind ?? null])).toEqual([
      ['new', 2, 'advanced'],
      ['qualified', 0, null],
    ]);
  });

  it('wins with probability 100 and closedAt, loses with a reason cancelling open tasks, and reopens', async () => {
    const { crm, clock, contact } = await setup();
    const deal = await crm.deals.create({ title: 'W', contactId: contact.id, value: { amount: 5000, currency: 'EUR' }, probability: 45 });
    expect(deal).toMatchObject({ probability: 45, probabilityManual: true });
    clock.advance(DAY);
    const won = await crm.deals.win(deal.id);
    expect(won).toMatchObject({ status: 'won', stageKey: 'won', probability: 100, probabilityManual: false, closedAt: '2026-03-03T09:00:00.000Z', weightedValue: { amount: 5000 } });
    const reopened = await crm.deals.reopen(deal.id, { toStage: 'new' });
    expect(reopened).toMatchObject({ status: 'open', stageKey: 'new', probability: 10 });
    expect(reopened.closedAt).toBeUndefined();
    await crm.deals.advance(deal.id); // creates the qualified-stage tasks
    const lost = await crm.deals.lose(deal.id, { reason: 'other', comment: 'Company closed' });
    expect(lost).toMatchObject({ status: 'lost', lostReason: 'other', lostComment: 'Company closed', probability: 0 });
    expect(lost.nextStepDueAt).toBeUndefined();
    const cancelled = await crm.eventLog.list({ where: where.eq('type', 'task.cancelled') });
    expect(cancelled.items).toHaveLength(2);
    expect(await visits(crm, deal.id)).toEqual(['deal.created', 'deal.won', 'deal.reopened', 'deal.stageChanged', 'deal.lost']);
    const history = await crm.deals.stageHistory(deal.id);
    expect(history.map((v) => [v.stageKey, v.exitKind ?? null])).toEqual([['new', 'won'], ['won', 'reopened'], ['new', 'advanced'], ['qualified', 'lost'], ['lost', null]]);
    await expectCrmError(crm.deals.lose(deal.id, { reason: 'nope' }), 'RULE_VIOLATION');
  });

  it('a manual probability sticks until the stage changes', async () => {
    const { crm, contact } = await setup();
    const deal = await crm.deals.create({ title: 'M', contactId: contact.id, value: { amount: 1000, currency: 'EUR' } });
    const manual = await crm.deals.update(deal.id, { probability: 80 });
    expect(manual.probability).toBe(80);
    await crm.pipelines.updateStage(deal.pipelineId, 'new', { probability: 15 });
    expect((await crm.deals.get(deal.id)).probability).toBe(80);
    const moved = await crm.deals.advance(deal.id);
    expect(moved).toMatchObject({ probability: 30, probabilityManual: false });
    await crm.pipelines.updateStage(deal.pipelineId, 'qualified', { probability: 35 });
    expect((await crm.deals.get(deal.id)).weightedValue.amount).toBe(350);
  });

  it('strict mode: new deals and moves need a next step; template stages satisfy it', async () => {
    const { crm, contact } = await setup({ strictNextStep: true });
    await expectCrmError(crm.deals.create({ title: 'S', contactId: contact.id }), 'RULE_VIOLATION');
    const deal = await crm.deals.create({ title: 'S', contactId: contact.id, nextStep: { subject: 'Intro call', type: 'call', dueAt: '2026-03-03T09:00:00Z' } });
    expect(deal.nextStepDueAt).toBe('2026-03-03T09:00:00.000Z');
    const moved = await crm.deals.advance(deal.id); // qualified has templates
    expect(moved.stageKey).toBe('qualified');
  });

  it('rotting: list filters deals idle longer than their stage allows, judged now', async () => {
    const { crm, clock, contact } = await setup();
    const idle = await crm.deals.create({ title: 'Idle' });
    const busy = await crm.deals.create({ title: 'Busy', contactId: contact.id });
    clock.advance(2 * DAY);
    await crm.activities.log({ kind: 'call', dealId: busy.id });
    clock.advance(DAY);
    expect((await crm.deals.list({ rotting: true })).items.map((d) => d.title)).toEqual(['Idle']);
    clock.advance(2 * DAY);
    expect((await crm.deals.list({ rotting: true, orderBy: [{ field: 'title' }] })).items.map((d) => d.title)).toEqual(['Busy', 'Idle']);
    await crm.deals.update(idle.id, { title: 'Idle, touched' });
    expect((await crm.deals.list({ rotting: true })).items.map((d) => d.title)).toEqual(['Busy']);
  });
});

describe('pipeline editing', () => {
  it('adds, renames, reorders stages; removing a stage with deals needs a target and keeps history', async () => {
    const { crm, pipeline, contact } = await setup();
    const withDemo = await crm.pipelines.addStage(pipeline.id, { stage: { key: 'demo', name: 'Demo' }, before: 'proposal' });
    expect(withDemo.stages.map((s) => [s.key, s.probability])).toEqual([['new', 10], ['qualified', 30], ['demo', 45], ['proposal', 60], ['won', 100], ['lost', 0]]);
    const renamed = await crm.pipelines.updateStage(pipeline.id, 'demo', { name: 'Live demo', rottenDays: 5 });
    expect(renamed.stages[2]).toMatchObject({ name: 'Live demo', rottenDays: 5 });
    const reordered = await crm.pipelines.reorderStages(pipeline.id, { keys: ['new', 'demo', 'qualified', 'proposal', 'won', 'lost'] });
    expect(reordered.stages.map((s) => s.key)).toEqual(['new', 'demo', 'qualified', 'proposal', 'won', 'lost']);
    await expectCrmError(crm.pipelines.reorderStages(pipeline.id, { keys: ['new'] }), 'VALIDATION');

    const deal = await crm.deals.create({ title: 'On demo', contactId: contact.id, stageKey: 'demo' });
    const blocked = await expectCrmError(crm.pipelines.removeStage(pipeline.id, 'demo'), 'RULE_VIOLATION');
    expect(blocked.details.violations[0]).toMatchObject({ rule: 'stage.hasDeals', data: { deals: 1 } });
    await expectCrmError(crm.pipelines.removeStage(pipeline.id, 'demo', { moveDealsTo: 'won' }), 'RULE_VIOLATION');
    const after = await crm.pipelines.removeStage(pipeline.id, 'demo', { moveDealsTo: 'qualified' });
    expect(after.stages.map((s) => s.key)).toEqual(['new', 'qualified', 'proposal', 'won', 'lost']);
    expect(after.version).toBe(reordered.version + 1);
    const moved = await crm.deals.get(deal.id);
    expect(moved).toMatchObject({ stageKey: 'qualified', probability: 30 });
    const history = await crm.deals.stageHistory(deal.id);
    expect(history.map((v) => [v.stageKey, v.exitKind ?? null, v.toStageKey ?? null])).toEqual([['demo', 'stageRemoved', 'qualified'], ['qualified', null, null]]);
    await expectCrmError(crm.pipelines.removeStage(pipeline.id, 'won'), 'VALIDATION');
  });
});

describe('assignment', () => {
  it('round robin takes turns, deterministically, and records each assignment', async () => {
    const { crm } = await setup();
    const rr = await crm.assignment.createStrategy({ name: 'Web', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'anna' }, { userId: 'ben' }, { userId: 'cy' }] });
    const owners = [];
    for (let i = 0; i < 5; i++) owners.push((await crm.leads.create({ name: `L${i}` }, { assignWith: rr.id })).ownerId);
    expect(owners).toEqual(['anna', 'ben', 'cy', 'anna', 'ben']);
    const events = await crm.eventLog.list({ where: where.eq('type', 'lead.assigned') });
    expect(events.items.map((e) => (e.data as { strategyId: string }).strategyId)).toEqual(Array(5).fill(rr.id));
    const kept = await crm.leads.create({ name: 'Mine', ownerId: 'zoe' }, { assignWith: rr.id });
    expect(kept.ownerId).toBe('zoe');
  });

  it('load-balanced respects capacity and falls back; rules route by source and custom field', async () => {
    const { crm } = await setup();
    const lb = await crm.assignment.createStrategy({
      name: 'Capacity', entity: 'deal', kind: 'loadBalanced', owners: [{ userId: 'anna', capacity: 1 }, { userId: 'ben', capacity: 2 }], fallback: { userId: 'head' },
    });
    const owners: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const deal = await crm.deals.create({ title: `D${i}`, ownerId: 'nobody' });
      owners.push((await crm.assignment.assign({ type: 'deal', id: deal.id }, lb.id)).ownerId);
    }
    expect(owners.slice(0, 3).sort()).toEqual(['anna', 'ben', 'ben']);
    expect(owners[3]).toBe('head');

    const rules = await crm.assignment.createStrategy({
      name: 'Routing', entity: 'lead', kind: 'rules',
      rules: [
        { when: [{ field: 'source', op: 'eq', value: 'partner' }], assignTo: { userId: 'partner-desk' } },
        { when: [{ field: 'country', op: 'in', value: ['DE', 'AT'] }], assignTo: { strategyId: lb.id } },
      ],
    });
    expect((await crm.leads.create({ name: 'P', source: 'partner' }, { assignWith: rules.id })).ownerId).toBe('partner-desk');
    await expectCrmError(crm.leads.create({ name: 'X', country: 'FR' }, { assignWith: rules.id }), 'RULE_VIOLATION');
    expect((await crm.leads.list()).items.some((l) => l.name === 'X')).toBe(false);
  });

  it('is reproducible for ties given the seed', async () => {
    const run = async () => {
      const { crm } = await createTestCrm({ seed: 'tie' });
      await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
      const lb = await crm.assignment.createStrategy({ name: 'T', entity: 'deal', kind: 'loadBalanced', owners: [{ userId: 'a' }, { userId: 'b' }, { userId: 'c' }] });
      const out = [];
      for (let i = 0; i < 6; i++) out.push((await crm.assignment.assign({ type: 'deal', id: (await crm.deals.create({ title: `${i}` })).id }, lb.id)).ownerId);
      return out;
    };
    expect(await run()).toEqual(await run());
  });
});
