import type { ValidationIssue } from '../../errors/crm-error.js';
import type { RecordBase } from '../../schema/record.js';
import type { Task } from '../../schema/task.js';
import type { TaskDraft } from './task-draft.js';
import type { BusinessCalendar } from '../calendar/business-calendar.js';
import { isValidTimeZone, localIsoDate, parseIsoDate, startOfLocalDay } from '../calendar/zoned-time.js';
import { toTimestamp } from '../clock.js';
import { compact } from '../records.js';
import { nextNoticeAt } from './notices.js';
import { RECURRENCE_NEEDS_FEATURE, type RecurrenceRules } from './recurrence-rules.js';
import { applyDeadline, dateIssues } from './task-deadline.js';

/**
 * Builds a task record: defaults (type `todo`, priority `normal`, the calendar's zone), the due
 * instant of an all-day task (start of its day in its zone), and the recurrence series (the first
 * due time is the rule's first occurrence at or after the given one). A draft with a rule needs
 * `rules` (the scheduler feature); without them it is refused with a `feature_required` issue.
 */
export function buildTask(
  base: RecordBase,
  draft: TaskDraft,
  calendar: BusinessCalendar,
  newSeriesId: () => string,
  rules?: RecurrenceRules,
): { task?: Task; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const timezone = draft.timezone ?? calendar.timezone;
  if (!isValidTimeZone(timezone)) issues.push({ path: ['timezone'], code: 'invalid_value', message: `"${timezone}" is not a known IANA time zone` });
  const allDay = draft.allDay ?? false;
  let dueAt = draft.dueAt;
  let dueDate = draft.dueDate;
  if (allDay) {
    if (draft.series) dueDate = undefined;
    if (!dueDate && dueAt && issues.length === 0) {
      dueDate = localIsoDate(Date.parse(dueAt), timezone);
      issues.push(...dateIssues(dueDate, timezone));
    }
    if (!dueDate) issues.push({ path: ['dueDate'], code: 'required', message: 'an all-day task needs dueDate' });
    // A day starting before year 0000 (0000-01-01 east of UTC) starts at the first instant a timestamp holds.
    else if (issues.length === 0) dueAt = toTimestamp(startOfLocalDay(parseIsoDate(dueDate), timezone));
  } else if (dueDate) issues.push({ path: ['dueDate'], code: 'invalid_value', message: 'only all-day tasks have dueDate; give dueAt' });

  let recurrence = draft.series;
  if (draft.recurrence !== undefined && !recurrence && !rules) {
    issues.push({ path: ['recurrence'], code: 'feature_required', message: RECURRENCE_NEEDS_FEATURE });
  } else if (draft.recurrence !== undefined && !recurrence && rules) {
    const ruleIssues = rules.checkRule(draft.recurrence);
    issues.push(...ruleIssues);
    if (!dueAt) issues.push({ path: ['dueAt'], code: 'required', message: 'a recurring task needs a due time' });
    if (ruleIssues.length === 0 && dueAt && issues.length === 0) {
      const first = rules.firstOccurrence(draft.recurrence, Date.parse(dueAt), timezone, { allDay });
      if (first === undefined) issues.push({ path: ['recurrence'], code: 'invalid_rrule', message: 'the rule produces no occurrence' });
      else {
        dueAt = toTimestamp(first);
        // An all-day series whose first occurrence is a later day is due that day (its deadline is that day's end).
        if (allDay) dueDate = localIsoDate(first, timezone);
        recurrence = {
          rule: draft.recurrence.trim().replace(/^RRULE:/i, '').toUpperCase(),
          seriesId: newSeriesId(),
          index: 0,
          dtstart: dueAt,
          base: compact({
            subject: draft.subject,
            type: draft.type ?? 'todo',
            ownerId: draft.ownerId,
            priority: draft.priority ?? 'normal',
            durationMinutes: draft.durationMinutes,
            reminders: [...(draft.reminders ?? [])].sort((a, b) => b - a),
            notes: draft.notes,
          }),
        };
      }
    }
  }
  if (issues.length) return { issues };
  const task = compact({
    ...base,
    subject: draft.subject,
    type: draft.type ?? 'todo',
    status: 'open' as const,
    dueAt,
    allDay,
    dueDate: allDay ? dueDate : undefined,
    timezone,
    durationMinutes: draft.durationMinutes,
    ownerId: draft.ownerId,
    priority: draft.priority ?? 'normal',
    dealId: draft.dealId,
    contactId: draft.contactId,
    companyId: draft.companyId,
    leadId: draft.leadId,
    notes: draft.notes,
    postponeCount: 0,
    reminders: [...(draft.reminders ?? [])].sort((a, b) => b - a),
    recurrence,
    stageKey: draft.stageKey,
    required: draft.required ?? false,
    previousTaskId: draft.previousTaskId,
    notifiedUntil: base.createdAt,
  }) as Task;
  applyDeadline(task);
  const next = nextNoticeAt(task, Date.parse(base.createdAt));
  return { task: next === undefined ? task : { ...task, nextNotifyAt: toTimestamp(next) }, issues };
}
