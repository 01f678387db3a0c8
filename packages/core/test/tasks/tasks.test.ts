import { describe, expect, it } from 'vitest';
import { where, type Task } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

const HOUR = 3_600_000;

async function setup() {
  const t = await createTestCrm({ now: '2026-03-02T08:00:00.000Z' }); // Monday 09:00 Berlin
  await t.crm.calendar.set({ timezone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '18:00' }], holidays: [] });
  const pipeline = await t.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New', rottenDays: 2 }, { key: 'next', name: 'Next' }] });
  return { ...t, pipeline };
}

describe('tasks', () => {
  it('creates timed and all-day tasks with defaults, linked to a deal whose next step follows', async () => {
    const { crm } = await setup();
    const deal = await crm.deals.create({ title: 'D' });
    const call = await crm.tasks.create({ subject: 'Call', type: 'call', dueAt: '2026-03-03T10:00:00+01:00', dealId: deal.id, reminders: [15, 60] });
    expect(call).toMatchObject({ status: 'open', ownerId: 'tester', priority: 'normal', timezone: 'Europe/Berlin', dueAt: '2026-03-03T09:00:00.000Z', reminders: [60, 15], allDay: false });
    const allDay = await crm.tasks.create({ subject: 'Prepare', allDay: true, dueDate: '2026-03-02', dealId: deal.id });
    expect(allDay).toMatchObject({ type: 'todo', dueDate: '2026-03-02', dueAt: '2026-03-01T23:00:00.000Z' });
    expect((await crm.deals.get(deal.id)).nextStepDueAt).toBe('2026-03-01T23:00:00.000Z');
    const errors = await expectCrmError(crm.tasks.create({ subject: 'x', allDay: true, type: 'unknown-type' }), 'VALIDATION');
    expect(issuePaths(errors)).toEqual(['type']);
    await expectCrmError(crm.tasks.create({ subject: 'x', allDay: true }), 'VALIDATION');
    await expectCrmError(crm.tasks.create({ subject: 'x', dueAt: '2026-03-03T10:00:00Z', timezone: 'Mars/Olympus' }), 'VALIDATION');
    await expectCrmError(crm.tasks.create({ subject: 'x', dealId: 'deal_none' }), 'VALIDATION');
  });

  it('completing restarts the deal rotting clock, records the outcome and creates the next step', async () => {
    const { crm, clock } = await setup();
    const deal = await crm.deals.create({ title: 'D', nextStep: { subject: 'Call', type: 'call', dueAt: '2026-03-03T09:00:00Z' } });
    clock.advance(3 * 24 * HOUR);
    expect((await crm.deals.list({ rotting: true })).items).toHaveLength(1);
    const [task] = (await crm.tasks.list({ where: where.eq('dealId', deal.id) })).items;
    const result = await crm.tasks.complete(task!.id, { outcome: 'Interested', next: { subject: 'Send offer', type: 'email', dueAt: '2026-03-06T09:00:00Z' } });
    expect(result.task).toMatchObject({ status: 'done', outcome: 'Interested', completedAt: '2026-03-05T08:00:00.000Z' });
    expect(result.created.map((t) => [t.subject, t.dealId, t.previousTaskId])).toEqual([['Send offer', deal.id, task!.id]]);
    const after = await crm.deals.get(deal.id);
    expect(after).toMatchObject({ lastActivityAt: '2026-03-05T08:00:00.000Z', nextStepDueAt: '2026-03-06T09:00:00.000Z' });
    expect((await crm.deals.list({ rotting: true })).items).toHaveLength(0);
    await expectCrmError(crm.tasks.complete(task!.id), 'RULE_VIOLATION');
  });

  it('strict mode: the last open task of a deal cannot be completed or cancelled without a next step', async () => {
    const { crm } = await setup();
    const strict = await crm.pipelines.create({ name: 'S', settings: { strictNextStep: true }, stages: [{ key: 'a', name: 'A' }] });
    const deal = await crm.deals.create({ title: 'S', pipelineId: strict.id, nextStep: { subject: 'Only', dueAt: '2026-03-03T09:00:00Z' } });
    const [task] = (await crm.tasks.list({ where: where.eq('dealId', deal.id) })).items;
    expect((await expectCrmError(crm.tasks.complete(task!.id), 'RULE_VIOLATION')).details.violations[0]!.rule).toBe('strict.nextStepRequired');
    await expectCrmError(crm.tasks.cancel(task!.id), 'RULE_VIOLATION');
    const done = await crm.tasks.complete(task!.id, { next: { subject: 'Then', dueAt: '2026-03-04T09:00:00Z' } });
    expect(done.created).toHaveLength(1);
    await crm.deals.lose(deal.id, { reason: 'price' });
  });

  it('chains activity types: suggest or create the next task, from completion or from the deadline', async () => {
    const { crm, clock } = await setup();
    await crm.tasks.defineType({ key: 'demo', label: 'Demo', reminders: [30], chain: { type: 'email', subject: 'Send recording', delay: { amount: 1, unit: 'businessDays', at: '10:00' }, mode: 'auto' } });
    await crm.tasks.defineType({ key: 'call', label: 'Call', chain: { type: 'call', delay: { amount: 2, unit: 'days' }, from: 'deadline' } });
    const demo = await crm.tasks.create({ subject: 'Demo', type: 'demo', dueAt: '2026-03-02T14:00:00Z' });
    expect(demo.reminders).toEqual([30]);
    clock.set('2026-03-06T15:00:00Z'); // Friday
    const auto = await crm.tasks.complete(demo.id);
    expect(auto.created.map((t) => [t.subject, t.type, t.dueAt])).toEqual([['Send recording', 'email', '2026-03-09T09:00:00.000Z']]);
    const call = await crm.tasks.create({ subject: 'Call', type: 'call', dueAt: '2026-03-05T09:00:00Z' });
    const suggested = await crm.tasks.complete(call.id);
    expect(suggested.created).toEqual([]);
    expect(suggested.suggestion).toEqual({ subject: 'Call', type: 'call', dueAt: '2026-03-07T09:00:00.000Z', ownerId: 'tester' });
    expect((await crm.tasks.listTypes()).map((t) => t.key)).toEqual(['call', 'meeting', 'email', 'todo', 'demo']);
    await expectCrmError(crm.tasks.defineType({ key: 'x', label: 'X', chain: { type: 'nope', delay: { amount: 1, unit: 'days' } } }), 'VALIDATION');
  });

  it('recurring tasks: the next occurrence appears on completion; cancel one or the series; edit this or following', async () => {
    const { crm } = await setup();
    const first = await crm.tasks.create({ subject: 'Weekly sync', type: 'meeting', dueAt: '2026-03-02T09:00:00Z', recurrence: 'FREQ=WEEKLY;BYDAY=MO,TH;COUNT=5', reminders: [10] });
    expect(first.recurrence).toMatchObject({ index: 0, rule: 'FREQ=WEEKLY;BYDAY=MO,TH;COUNT=5' });
    const second = (await crm.tasks.complete(first.id)).created[0]!;
    expect(second).toMatchObject({ dueAt: '2026-03-05T09:00:00.000Z', recurrence: { index: 1, seriesId: first.recurrence!.seriesId }, reminders: [10] });
    // "This one": moved to 11:00, the series keeps its rhythm.
    const moved = await crm.tasks.update(second.id, { dueAt: '2026-03-05T11:00:00Z', subject: 'Sync (moved)' });
    const third = (await crm.tasks.complete(moved.id)).created[0]!;
    expect(third).toMatchObject({ subject: 'Weekly sync', dueAt: '2026-03-09T09:00:00.000Z', recurrence: { index: 2 } });
    // Cancel one occurrence: the series goes on.
    const fourth = (await crm.tasks.list({ where: where.eq('recurrence.seriesId', first.recurrence!.seriesId), orderBy: [{ field: 'dueAt', direction: 'desc' }] })).items[0]!;
    expect(fourth.id).toBe(third.id);
    await crm.tasks.cancel(third.id);
    const afterCancel = (await crm.tasks.list({ where: where.and(where.eq('recurrence.seriesId', first.recurrence!.seriesId), where.eq('status', 'open')) })).items;
    expect(afterCancel.map((t) => [t.dueAt, t.recurrence!.index])).toEqual([['2026-03-12T09:00:00.000Z', 3]]);
    // "This and following": a new time starts a new series from here.
    const split = await crm.tasks.update(afterCancel[0]!.id, { scope: 'following', dueAt: '2026-03-12T15:00:00Z', subject: 'Afternoon sync' });
    expect(split.recurrence).toMatchObject({ index: 0, dtstart: '2026-03-12T15:00:00.000Z', base: { subject: 'Afternoon sync' } });
    expect(split.recurrence!.seriesId).not.toBe(first.recurrence!.seriesId);
    const next = (await crm.tasks.complete(split.id)).created[0]!;
    expect(next).toMatchObject({ subject: 'Afternoon sync', dueAt: '2026-03-16T15:00:00.000Z' });
    // Cancelling the series stops it.
    const stopped = await crm.tasks.cancel(next.id, { series: true });
    expect(stopped.status).toBe('cancelled');
    expect((await crm.tasks.list({ where: where.eq('status', 'open') })).items).toEqual([]);
    await expectCrmError(crm.tasks.update(next.id, { recurrence: 'FREQ=DAILY' }), 'VALIDATION');
    await expectCrmError(crm.tasks.create({ subject: 'x', recurrence: 'FREQ=DAILY' }), 'VALIDATION');
  });

  it('postponing a deal task goes through the funnel and counts on the deal', async () => {
    const { crm } = await setup();
    const deal = await crm.deals.create({ title: 'D', nextStep: { subject: 'Call', dueAt: '2026-03-03T09:00:00Z' } });
    const [task] = (await crm.tasks.list({ where: where.eq('dealId', deal.id) })).items;
    const moved = await crm.tasks.postpone(task!.id, { until: '2026-03-04T09:00:00Z', reason: 'Sick' });
    expect(moved).toMatchObject({ dueAt: '2026-03-04T09:00:00.000Z', postponeCount: 1, lastPostponeReason: 'Sick' });
    expect(await crm.deals.get(deal.id)).toMatchObject({ postponeCount: 1, nextStepDueAt: '2026-03-04T09:00:00.000Z' });
    const solo = await crm.tasks.create({ subject: 'Solo', dueAt: '2026-03-03T09:00:00Z' });
    expect((await crm.tasks.postpone(solo.id, { until: '2026-03-05T09:00:00Z' })).postponeCount).toBe(1);
    await expectCrmError(crm.tasks.postpone(solo.id, { until: '2026-03-04T09:00:00Z' }), 'RULE_VIOLATION');
  });

  it('agenda: overdue, today and upcoming in order; workload per owner', async () => {
    const { crm, clock } = await setup();
    clock.set('2026-03-04T11:00:00Z'); // Wednesday 12:00 Berlin
    const make = (subject: string, dueAt: string, ownerId = 'anna') => crm.tasks.create({ subject, dueAt, ownerId });
    await make('old', '2026-03-02T09:00:00Z');
    await make('earlier today', '2026-03-04T07:00:00Z');
    await make('later today', '2026-03-04T16:00:00Z');
    await make('tonight', '2026-03-04T22:30:00Z'); // 23:30 Berlin, still today
    await make('tomorrow', '2026-03-05T09:00:00Z');
    await make('far', '2026-04-30T09:00:00Z');
    await make('ben', '2026-03-04T16:00:00Z', 'ben');
    const done = await make('done', '2026-03-03T09:00:00Z');
    await crm.tasks.complete(done.id);
    const agenda = await crm.tasks.agenda({ ownerId: 'anna' });
    const names = (list: Task[]) => list.map((t) => t.subject);
    expect([names(agenda.overdue), names(agenda.today), names(agenda.upcoming)]).toEqual([['old', 'earlier today'], ['later today', 'tonight'], ['tomorrow']]);
    const load = await crm.tasks.workload({ from: '2026-03-02T00:00:00Z', to: '2026-03-09T00:00:00Z' });
    expect(load).toEqual([
      { ownerId: 'anna', open: 6, overdue: 2, due: 5, done: 1 },
      { ownerId: 'ben', open: 1, overdue: 0, due: 1, done: 0 },
    ]);
  });
});
