import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

describe('scheduler notice keys', () => {
  it('are rem:<task>:<due ms>:<minutes>, due:<task>:<due ms> and ovd:<task>:<due ms>, as docs/feed.md says', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z' });
    const task = await crm.tasks.create({ subject: 'Call', dueAt: '2026-03-02T10:00:00Z', reminders: [15] });
    clock.set('2026-03-02T12:00:00Z');
    await crm.scheduler.tick();
    const due = Date.parse('2026-03-02T10:00:00Z');
    const keys = async (type: string) => (await crm.eventLog.list({ where: where.eq('type', type) })).items.map((e) => (e.data as { key: string }).key);
    expect(await keys('task.reminder')).toEqual([`rem:${task.id}:${due}:15`]);
    expect(await keys('task.due')).toEqual([`due:${task.id}:${due}`]);
    expect(await keys('task.overdue')).toEqual([`ovd:${task.id}:${due}`]);
    await crm.close();
  });
});
