import { describe, expect, it, vi } from 'vitest';
import { CrmError, where } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { buildTasks } from '../../src/tasks/task-writer.js';
import type * as TaskWriter from '../../src/tasks/task-writer.js';

// The scheduler builds a series' next occurrence with buildTasks: a refusal is forced for the series named "Refused".
vi.mock('../../src/tasks/task-writer.js', async (importOriginal) => {
  const actual = await importOriginal<typeof TaskWriter>();
  return { ...actual, buildTasks: vi.fn(actual.buildTasks) };
});
const original = vi.mocked(buildTasks).getMockImplementation()!;
vi.mocked(buildTasks).mockImplementation(async (op, drafts, context, ...rest) => {
  if (context === 'scheduler' && drafts.some((d) => d.subject === 'Refused')) {
    throw new CrmError('VALIDATION', 'Invalid input to scheduler: dueAt: forced refusal', { issues: [{ path: ['dueAt'], code: 'too_big', message: 'forced refusal' }] });
  }
  return original(op, drafts, context, ...rest);
});

describe('scheduler: a refused next occurrence of a series', () => {
  it('stops that series with the reason, is logged, and the tick goes on with the others, on every pass', async () => {
    const errors: { message: string; data?: Record<string, unknown> }[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (message: string, data?: Record<string, unknown>) => void errors.push({ message, data }) };
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z', logger });
    const refused = await crm.tasks.create({ subject: 'Refused', dueAt: '2026-03-02T09:00:00Z', recurrence: 'FREQ=DAILY;COUNT=5' });
    const fine = await crm.tasks.create({ subject: 'Fine', dueAt: '2026-03-02T09:00:00Z', recurrence: 'FREQ=DAILY;COUNT=5' });
    clock.set('2026-03-02T09:30:00Z');

    expect(await crm.scheduler.tick()).toMatchObject({ recurrences: 1, due: 2 });
    const stopped = await crm.tasks.get(refused.id);
    expect(stopped.recurrence).toMatchObject({ stopped: { at: '2026-03-02T09:30:00.000Z', reason: expect.stringContaining('VALIDATION: Invalid input to scheduler: dueAt: forced refusal') } });
    expect(stopped.recurrence!.spawned).toBeUndefined();
    expect(stopped.nextNotifyAt).toBeDefined(); // its own notices (overdue) still come
    expect(errors).toEqual([{ message: expect.stringContaining('its series stops'), data: expect.objectContaining({ taskId: refused.id }) }]);

    // Later passes do not try it again and do not fail; the other series goes on.
    const calls = vi.mocked(buildTasks).mock.calls.length;
    clock.set('2026-03-03T09:30:00Z');
    expect(await crm.scheduler.tick()).toMatchObject({ recurrences: 1, due: 1, overdue: 2 }); // both first occurrences are overdue now
    expect(vi.mocked(buildTasks).mock.calls.slice(calls).every(([, drafts]) => drafts.every((d) => d.subject === 'Fine'))).toBe(true);
    expect(errors).toHaveLength(1);
    const series = async (id: string) => (await crm.tasks.list({ where: where.eq('recurrence.seriesId', id) })).items.length;
    expect(await series(fine.recurrence!.seriesId)).toBe(3);
    expect(await series(refused.recurrence!.seriesId)).toBe(1);

    // The stopped occurrence can still be completed; the series does not continue.
    expect((await crm.tasks.complete(refused.id)).created).toEqual([]);
  });
});
