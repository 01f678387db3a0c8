import { afterEach, expect, it } from 'vitest';
import { createMemoryStorage } from '../../src/index.js';
import { createCrmHarness } from '../../src/testing/conformance/crm-harness.js';

const harness = createCrmHarness(() => createMemoryStorage());
afterEach(() => harness.cleanup());

/**
 * An all-day series whose first occurrence falls on a later day than the given one is due that day: its
 * `dueDate` and deadline follow the occurrence (they stayed on the given day, a deadline before the due
 * time, so the task read as overdue before it was due and `agenda.validUntil` fell before now — found
 * by the time-range property near 9999-12-31).
 */
it('an all-day weekly series created on a Wednesday for Mondays and Fridays is due on Friday, overdue after Friday', async () => {
  const { crm, clock } = (await harness.open()) as unknown as { crm: any; clock: { set(ms: number): void } };
  clock.set(Date.parse('2026-06-10T12:00:00.000Z')); // Wednesday
  const task = await crm.tasks.create({ subject: 'Visit', dueAt: '2026-06-10T12:00:00.000Z', allDay: true, timezone: 'America/New_York', recurrence: 'FREQ=WEEKLY;BYDAY=MO,FR' });
  expect({ dueAt: task.dueAt, dueDate: task.dueDate, deadlineAt: task.deadlineAt }).toEqual({ dueAt: '2026-06-12T04:00:00.000Z', dueDate: '2026-06-12', deadlineAt: '2026-06-13T03:59:59.999Z' });
  const agenda = await crm.tasks.agenda({});
  expect(agenda.overdue.map((t: { id: string }) => t.id)).toEqual([]);
  expect(agenda.validUntil >= '2026-06-10T12:00:00.000Z').toBe(true);
});
