import { nextOccurrenceDraft } from '../domain/tasks/next-occurrence.js';
import type { RecurrenceRules } from '../domain/tasks/recurrence-rules.js';
import { occurrences, parseRecurrence } from '../domain/tasks/rrule.js';

/** The RRULE engine behind recurring tasks, installed by the scheduler feature. */
export const rruleRecurrence: RecurrenceRules = {
  checkRule: (rule) => parseRecurrence(rule).issues,
  firstOccurrence(rule, fromMs, timezone, options) {
    const parsed = parseRecurrence(rule).rule;
    if (!parsed) return undefined;
    const first = occurrences(parsed, fromMs, timezone, { allDay: options?.allDay ?? false }).next();
    return first.done ? undefined : first.value.at;
  },
  nextOccurrence: nextOccurrenceDraft,
};
