import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryStorage, type CrmEvent, type Task } from '@crmkit/core';
import { localIsoDate } from '@crmkit/core/tasks';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

const BERLIN = { timezone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '18:00' }], holidays: [] };

async function berlin(now: string) {
  const t = await createTestCrm({ now });
  await t.crm.calendar.set(BERLIN);
  return t;
}

const ids = (tasks: readonly Task[]) => tasks.map((x) => x.subject);

describe('an all-day task is due through the end of its local day', () => {
  it('is on today\'s agenda at 09:00 Berlin, not overdue (the issue example), and overdue once the day is over', async () => {
    const { crm, clock } = await berlin('2026-06-10T07:00:00.000Z'); // 09:00 in Berlin
    const task = await crm.tasks.create({ subject: 'Send the contract', allDay: true, dueDate: '2026-06-10' });
    expect(task).toMatchObject({ dueAt: '2026-06-09T22:00:00.000Z', deadlineAt: '2026-06-10T21:59:59.999Z' });
    let agenda = await crm.tasks.agenda();
    expect([ids(agenda.overdue), ids(agenda.today)]).toEqual([[], ['Send the contract']]);
    clock.set('2026-06-10T21:59:59.999Z'); // 23:59:59.999 in Berlin
    agenda = await crm.tasks.agenda();
    expect([ids(agenda.overdue), ids(agenda.today)]).toEqual([[], ['Send the contract']]);
    clock.set('2026-06-10T22:00:00.000Z'); // midnight: the day is over
    agenda = await crm.tasks.agenda();
    expect([ids(agenda.overdue), ids(agenda.today)]).toEqual([['Send the contract'], []]);
  });

  it('counts in workload and the performance report only once its day is over', async () => {
    const { crm, clock } = await berlin('2026-06-10T07:00:00.000Z');
    await crm.tasks.create({ subject: 'All day', allDay: true, dueDate: '2026-06-10' });
    await crm.tasks.create({ subject: 'Timed, past', dueAt: '2026-06-10T06:00:00Z' });
    const window = { from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00Z' };
    expect((await crm.tasks.workload(window)).map((w) => w.overdue)).toEqual([1]);
    expect((await crm.reports.performance(window)).owners.map((o) => o.tasksOverdue)).toEqual([1]);
    clock.set('2026-06-10T22:00:00.000Z');
    expect((await crm.tasks.workload(window)).map((w) => w.overdue)).toEqual([2]);
    expect((await crm.reports.performance(window)).owners.map((o) => o.tasksOverdue)).toEqual([2]);
  });

  it('the scheduler fires task.overdue when the local day ends, on 23- and 25-hour days too', async () => {
    for (const [day, end] of [['2026-03-29', '2026-03-29T22:00:00.000Z'], ['2026-10-25', '2026-10-25T23:00:00.000Z'], ['2026-06-10', '2026-06-10T22:00:00.000Z']] as const) {
      const { crm, clock } = await berlin(`${day}T05:00:00.000Z`);
      const events: CrmEvent[] = [];
      crm.on('task.overdue', (e) => void events.push(e));
      const task = await crm.tasks.create({ subject: day, allDay: true, dueDate: day });
      expect(task.deadlineAt).toBe(new Date(Date.parse(end) - 1).toISOString());
      clock.set(Date.parse(end) - 1);
      await crm.scheduler.tick();
      expect(events, `${day} before its end`).toEqual([]);
      clock.set(end);
      await crm.scheduler.tick();
      expect(events.map((e) => e.subjectId), `${day} at its end`).toEqual([task.id]);
    }
  });

  it('agrees with the calendar for any zone, day and time (property: overdue ⇔ the local date is after the due date)', async () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Santiago', 'Asia/Kolkata', 'UTC'];
    const { crm, clock } = await createTestCrm({ now: '2026-01-01T00:00:00.000Z' });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...zones), fc.integer({ min: Date.parse('2026-01-02T00:00:00Z'), max: Date.parse('2027-12-01T00:00:00Z') }), fc.integer({ min: 0, max: 3 * 86_400_000 }), async (zone, dueMs, later) => {
        clock.set('2026-01-01T00:00:00.000Z');
        const dueDate = localIsoDate(dueMs, zone);
        const task = await crm.tasks.create({ subject: 'p', allDay: true, dueDate, timezone: zone, ownerId: 'p' });
        const now = dueMs + later;
        clock.set(now);
        const agenda = await crm.tasks.agenda({ ownerId: 'p' });
        const overdue = agenda.overdue.some((t) => t.id === task.id);
        expect(overdue, `${dueDate} in ${zone} at ${new Date(now).toISOString()}`).toBe(localIsoDate(now, zone) > dueDate);
        await crm.tasks.cancel(task.id);
      }),
      { numRuns: 150 },
    );
  });

  it('an agenda observer moves the task to overdue when the day ends, without any change to the data', async () => {
    const { crm, clock } = await berlin('2026-06-10T07:00:00.000Z');
    await crm.tasks.create({ subject: 'All day', allDay: true, dueDate: '2026-06-10' });
    const observer = crm.observe.agenda();
    const off = observer.subscribe(() => undefined);
    await observer.refetch();
    expect(observer.getSnapshot().data?.validUntil).toBe('2026-06-10T22:00:00.000Z');
    expect(ids(observer.getSnapshot().data!.today)).toEqual(['All day']);
    clock.advance(60_000); // the scheduler's one-time idle-process check (no notice handlers here: no warning)
    expect(clock.nextTimerAt()).toBe(Date.parse('2026-06-10T22:00:00.000Z'));
    clock.advance(Date.parse('2026-06-10T22:00:00.000Z') - clock.now()); // fires the observer's timer at midnight
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ids(observer.getSnapshot().data!.overdue)).toEqual(['All day']);
    off();
  });

  it('postponing moves an all-day task to a later day, never within the same day', async () => {
    const { crm } = await berlin('2026-06-10T07:00:00.000Z');
    const task = await crm.tasks.create({ subject: 'All day', allDay: true, dueDate: '2026-06-10' });
    await expectCrmError(crm.tasks.postpone(task.id, { until: '2026-06-10T15:00:00+02:00' }), 'RULE_VIOLATION');
    const moved = await crm.tasks.postpone(task.id, { until: '2026-06-11T08:00:00+02:00' });
    expect(moved).toMatchObject({ dueDate: '2026-06-11', dueAt: '2026-06-10T22:00:00.000Z', deadlineAt: '2026-06-11T21:59:59.999Z' });
    const deal = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] }).then(() => crm.deals.create({ title: 'D', nextStep: { subject: 'Step', allDay: true, dueDate: '2026-06-12' } }));
    await expectCrmError(crm.deals.postpone(deal.id, { until: '2026-06-12T20:00:00+02:00' }), 'RULE_VIOLATION');
    await crm.deals.postpone(deal.id, { until: '2026-06-13T09:00:00+02:00' });
  });

  it('updating the due time of an all-day task moves it to that local day; dueDate on a timed task is refused', async () => {
    const { crm } = await berlin('2026-06-10T07:00:00.000Z');
    const task = await crm.tasks.create({ subject: 'All day', allDay: true, dueDate: '2026-06-10' });
    const moved = await crm.tasks.update(task.id, { dueAt: '2026-06-11T23:30:00Z' }); // 01:30 on the 12th in Berlin
    expect(moved).toMatchObject({ dueDate: '2026-06-12', dueAt: '2026-06-11T22:00:00.000Z', deadlineAt: '2026-06-12T21:59:59.999Z' });
    const timed = await crm.tasks.create({ subject: 'Timed', dueAt: '2026-06-11T23:30:00Z' });
    const toAllDay = await crm.tasks.update(timed.id, { allDay: true });
    expect(toAllDay).toMatchObject({ dueDate: '2026-06-12', deadlineAt: '2026-06-12T21:59:59.999Z' });
    const other = await crm.tasks.create({ subject: 'Timed 2', dueAt: '2026-06-11T10:00:00Z' });
    expect(issuePaths(await expectCrmError(crm.tasks.update(other.id, { dueDate: '2026-06-13' }), 'VALIDATION'))).toEqual(['dueDate']);
  });

  it('gives open tasks stored before deadlineAt existed their deadline when the crm starts', async () => {
    const storage = createMemoryStorage();
    await storage.open(CRM_STORAGE_SCHEMA);
    const legacy = {
      id: 'task_legacy', tenantId: 'test', version: 1, createdAt: '2026-06-01T00:00:00.000Z', updatedAt: '2026-06-01T00:00:00.000Z',
      subject: 'Legacy', type: 'todo', status: 'open', allDay: true, dueDate: '2026-06-10', dueAt: '2026-06-09T22:00:00.000Z', timezone: 'Europe/Berlin',
      priority: 'normal', postponeCount: 0, reminders: [], required: false,
    };
    await storage.transaction('rw', (tx) => tx.write('task', 'test', [{ type: 'insert', row: legacy }]));
    const { crm } = await createTestCrm({ storage, now: '2026-06-10T07:00:00.000Z' });
    expect((await crm.tasks.get('task_legacy')).deadlineAt).toBe('2026-06-10T21:59:59.999Z');
    expect(ids((await crm.tasks.agenda()).today)).toEqual(['Legacy']);
  });
});
