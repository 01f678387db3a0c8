import type { Task } from '../../schema/task.js';
import type { TaskDraft } from './task-draft.js';
import { toTimestamp } from '../clock.js';
import { occurrenceAfter, parseRecurrence } from './rrule.js';

/**
 * The draft of a series' next occurrence after `task`, from the series' shared fields, due at the
 * rule's next time after this occurrence's scheduled time; `undefined` when the series has ended
 * (COUNT or UNTIL reached).
 */
export function nextOccurrenceDraft(task: Task): TaskDraft | undefined {
  const series = task.recurrence;
  if (!series) return undefined;
  const { rule } = parseRecurrence(series.rule);
  if (!rule) return undefined;
  const scheduled = Date.parse(series.occurrenceAt ?? task.dueAt ?? series.dtstart);
  const next = occurrenceAfter(rule, Date.parse(series.dtstart), task.timezone ?? 'UTC', scheduled, { allDay: task.allDay });
  if (!next) return undefined;
  const base = series.base ?? { subject: task.subject, type: task.type, ownerId: task.ownerId, priority: task.priority, durationMinutes: task.durationMinutes, reminders: task.reminders, notes: task.notes };
  return {
    subject: base.subject,
    type: base.type,
    priority: base.priority,
    reminders: base.reminders,
    ...(base.ownerId ? { ownerId: base.ownerId } : {}),
    ...(base.durationMinutes !== undefined ? { durationMinutes: base.durationMinutes } : {}),
    ...(base.notes ? { notes: base.notes } : {}),
    dueAt: toTimestamp(next.at),
    allDay: task.allDay,
    ...(task.timezone ? { timezone: task.timezone } : {}),
    ...(task.dealId ? { dealId: task.dealId } : {}),
    ...(task.contactId ? { contactId: task.contactId } : {}),
    ...(task.companyId ? { companyId: task.companyId } : {}),
    ...(task.leadId ? { leadId: task.leadId } : {}),
    series: { rule: series.rule, seriesId: series.seriesId, index: next.index, dtstart: series.dtstart, ...(series.base ? { base: series.base } : {}) },
  };
}
