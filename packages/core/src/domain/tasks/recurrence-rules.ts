import type { ValidationIssue } from '../../errors/crm-error.js';
import type { Task } from '../../schema/task.js';
import type { TaskDraft } from './task-draft.js';

/**
 * How task series unfold (RFC 5545 RRULE subset). Core asks for it only when a task has a
 * recurrence; the scheduler feature (`@crmkit/core/scheduler`) provides it, so a crm without
 * recurring tasks does not carry the rule engine.
 */
export interface RecurrenceRules {
  /** Problems of a rule; empty when it is valid. */
  checkRule(rule: string): ValidationIssue[];
  /**
   * The first occurrence (epoch ms) at or after `fromMs` in `timezone`; `undefined` when the rule
   * produces none. `allDay` series recur on dates (no DST gap drops one).
   */
  firstOccurrence(rule: string, fromMs: number, timezone: string, options?: { allDay?: boolean }): number | undefined;
  /** The draft of the series' next occurrence after `task`; `undefined` when the series has ended (COUNT, UNTIL). */
  nextOccurrence(task: Task): TaskDraft | undefined;
}

/** Why a recurring task was refused by a crm without the scheduler feature. */
export const RECURRENCE_NEEDS_FEATURE =
  'recurring tasks need the scheduler feature: createCrm({ features: [scheduler()] }) with scheduler from @crmkit/core/scheduler';
