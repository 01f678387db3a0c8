import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { nextNoticeAt } from '../../src/domain/tasks/notices.js';

// A due time late on 9999-12-31 is a valid input, but its overdue notice (due + 60 min) falls in year
// 10000: stored as '+010000-…' it sorted before every timestamp and the scheduler claimed the task on
// every pass, forever (review12h #1, the computed-time half).
describe('notices computed past year 9999', () => {
  it('a task due late on 9999-12-31 gets its due notice and the tick ends; no notice time past 9999 is stored', async () => {
    const { crm, clock, storage } = await createTestCrm({ now: '9999-12-31T22:00:00.000Z' });
    const task = await crm.tasks.create({ subject: 'last call', dueAt: '9999-12-31T23:30:00Z' });
    // Checked first and without the scheduler: a regression fails here instead of spinning the tick below.
    expect(nextNoticeAt(task, Date.parse('9999-12-31T23:30:00Z'))).toBeUndefined();
    clock.set('9999-12-31T23:45:00Z');
    expect(await crm.scheduler.tick()).toMatchObject({ due: 1, overdue: 0 });
    expect(await crm.scheduler.tick()).toMatchObject({ due: 0, overdue: 0 });
    const stored = JSON.stringify(storage.snapshot());
    expect(stored).not.toContain('+010000');
    expect((await crm.tasks.get(task.id)).status).toBe('open');
  });

  it('an all-day task due 9999-12-31 west of UTC keeps a deadline within year 9999', async () => {
    const { crm, storage } = await createTestCrm({ now: '9999-12-30T12:00:00.000Z' });
    await crm.calendar.set({ timezone: 'America/New_York', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '17:00' }], holidays: [] });
    const task = await crm.tasks.create({ subject: 'year end', allDay: true, dueDate: '9999-12-31' });
    expect(task.deadlineAt).toBe('9999-12-31T23:59:59.999Z');
    expect(JSON.stringify(storage.snapshot())).not.toContain('+010000');
    expect(await crm.scheduler.tick()).toMatchObject({ overdue: 0 });
  });
});
