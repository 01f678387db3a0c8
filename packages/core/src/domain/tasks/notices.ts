import type { Task } from '../../schema/task.js';
import { LAST_INSTANT } from '../../schema/primitives.js';
import { taskDeadline } from './task-deadline.js';

/** Something the scheduler must do for a task at a time, with the idempotency key of that occurrence. */
export interface TaskNotice {
  readonly kind: 'reminder' | 'due' | 'overdue' | 'recur';
  readonly at: number;
  /** Unique per task occurrence and notice: the same key is never delivered twice. */
  readonly key: string;
  readonly minutesBefore?: number;
}

export interface NoticeSettings {
  /** A timed task becomes overdue this long after its due time (default 60 minutes). */
  readonly overdueAfterMs: number;
}

export const DEFAULT_NOTICE_SETTINGS: NoticeSettings = { overdueAfterMs: 60 * 60_000 };

/**
 * Every notice of an open task's current schedule: reminders before due, due, overdue (an all-day
 * task is overdue when its day is over), and the creation of the next occurrence of a series.
 * Keys embed the due time, so a rescheduled task gets fresh notices.
 */
export function taskNotices(task: Task, settings: NoticeSettings = DEFAULT_NOTICE_SETTINGS): TaskNotice[] {
  if (task.status !== 'open' || !task.dueAt) return [];
  const due = Date.parse(task.dueAt);
  const stamp = `${task.id}:${due}`;
  const notices: TaskNotice[] = task.reminders.map((minutes) => ({ kind: 'reminder' as const, at: due - minutes * 60_000, key: `rem:${stamp}:${minutes}`, minutesBefore: minutes }));
  notices.push({ kind: 'due', at: due, key: `due:${stamp}` });
  // An all-day task is overdue when its local day ends (23–25 h after it began), a timed one after the grace.
  const deadline = task.deadlineAt ? Date.parse(task.deadlineAt) : (taskDeadline(task) ?? due);
  notices.push({ kind: 'overdue', at: task.allDay ? deadline + 1 : due + settings.overdueAfterMs, key: `ovd:${stamp}` });
  if (task.recurrence && !task.recurrence.spawned && !task.recurrence.stopped) notices.push({ kind: 'recur', at: due, key: `rec:${task.recurrence.seriesId}:${task.recurrence.index}` });
  return notices.sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : 1));
}

/** Notices after the task's watermark and at or before `upTo`. */
export function pendingNotices(task: Task, upTo: number, settings?: NoticeSettings): TaskNotice[] {
  const watermark = task.notifiedUntil ? Date.parse(task.notifiedUntil) : Number.NEGATIVE_INFINITY;
  return taskNotices(task, settings).filter((n) => n.at > watermark && n.at <= upTo);
}

/**
 * The time of the first notice after `after` (or after the watermark), for the scheduler's queue. None past
 * `LAST_INSTANT`: such a notice never fires (an overdue time after a due time late on 9999-12-31 was stored
 * '+010000-…', and the scheduler claimed the task on every pass).
 */
export function nextNoticeAt(task: Task, after: number, settings?: NoticeSettings): number | undefined {
  const at = taskNotices(task, settings).find((n) => n.at > after)?.at;
  return at !== undefined && at <= LAST_INSTANT ? at : undefined;
}
