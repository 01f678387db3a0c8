import type { ValidationIssue } from '../../errors/crm-error.js';
import type { Task } from '../../schema/task.js';
import { endOfLocalDay, parseIsoDate } from '../calendar/zoned-time.js';
import { toTimestamp } from '../clock.js';

/**
 * The last instant a task is on time, epoch ms: a timed task's due time; for an all-day task the last
 * millisecond of its local day in its zone (the day lasts 23, 24 or 25 hours). A task is overdue when
 * now is after it. This is the one definition of "overdue" that the agenda, the workload, the reports,
 * the scheduler and the observers share, through the stored `deadlineAt`.
 *
 * @returns `undefined` for a task without a due time.
 * @example
 * taskDeadline({ allDay: true, dueDate: '2026-06-10', timezone: 'Europe/Berlin' }) // 2026-06-10T21:59:59.999Z
 */
export function taskDeadline(task: Pick<Task, 'allDay' | 'dueAt' | 'dueDate' | 'timezone'>): number | undefined {
  if (task.allDay && task.dueDate) return endOfLocalDay(parseIsoDate(task.dueDate), task.timezone ?? 'UTC') - 1;
  return task.dueAt ? Date.parse(task.dueAt) : undefined;
}

/**
 * Sets (or clears) `deadlineAt` on a task draft from its due fields. Call after any change of them. An all-day
 * task due 9999-12-31 west of UTC ends after the last instant a timestamp holds: its deadline is held there.
 */
export function applyDeadline(draft: Task): void {
  const deadline = taskDeadline(draft);
  const mutable = draft as { deadlineAt?: string };
  if (deadline === undefined) delete mutable.deadlineAt;
  else mutable.deadlineAt = toTimestamp(deadline);
}

/**
 * Does postponing to `until` move the task later? `until` must be after its deadline: a timed task's
 * due time, or — since an all-day task moves to the local day of `until` — after its current day.
 */
export function postponesLater(task: Pick<Task, 'allDay' | 'dueAt' | 'dueDate' | 'timezone'>, until: number): boolean {
  const deadline = taskDeadline(task);
  return deadline === undefined || until > deadline;
}

/**
 * Problems of the local date an all-day task falls on, computed from an instant (`localIsoDate`): outside
 * years 0000–9999 no date holds it (9999-12-31T20:00Z is 10000-01-01 in Pacific/Kiritimati). Empty for a
 * `YYYY-MM-DD` date; else one `out_of_range` issue naming `field`.
 */
export function dateIssues(date: string, zone: string, field = 'dueAt'): ValidationIssue[] {
  return /^\d{4}-/.test(date) ? [] : [{ path: [field], code: 'out_of_range', message: `falls on a day outside years 0000-9999 in ${zone}` }];
}
