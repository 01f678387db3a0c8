import * as z from 'zod/mini';
import { externalRefShape, externalRefsSchema } from './external-ref.js';
import { idSchema, isoDateSchema, LIMITS, optionalText, requiredText, text, timestampInputSchema, timestampSchema, userIdSchema, int } from './primitives.js';
import { parentAccessShape, recordBaseShape } from './record.js';
import { stageKeySchema } from './pipeline.js';

export const TASK_STATUSES = ['open', 'done', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

import { TASK_PRIORITIES, taskTypeKeySchema } from './task-update.js';
export { TASK_PRIORITIES, taskTypeKeySchema, taskUpdateInputSchema } from './task-update.js';
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

/** Built-in task types; tenants may use their own keys (`demo`, `site-visit`). */
export const BUILTIN_TASK_TYPES = ['call', 'meeting', 'email', 'todo'] as const;


/** Series-level fields every occurrence starts from ("this and following" edits change them). */
export const seriesBaseSchema = z.strictObject({
  subject: requiredText(),
  type: taskTypeKeySchema,
  ownerId: z.optional(userIdSchema),
  priority: z.enum(TASK_PRIORITIES),
  durationMinutes: z.optional(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 31))),
  reminders: z.array(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 60))),
  notes: optionalText(LIMITS.longText),
});
export type SeriesBase = z.infer<typeof seriesBaseSchema>;

/** Recurrence of a task series; `rule` is an RRULE subset (FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL). */
export const taskRecurrenceSchema = z.strictObject({
  rule: text(500),
  /** Id shared by all occurrences of a series. */
  seriesId: idSchema,
  /** 0-based index of this occurrence in the series. */
  index: z.number().check(int(), z.gte(0)),
  /** Start of the series: the first occurrence's due time, which the rule counts from. */
  dtstart: timestampSchema,
  /** The scheduled time of this occurrence when it was moved ("this one" edits, postponements). */
  occurrenceAt: z.optional(timestampSchema),
  /** The next occurrence has been created. */
  spawned: z.optional(z.boolean()),
  /**
   * The series stopped at this occurrence because its next one was refused (`reason`: the refusal's
   * code and message, e.g. a calendar or time out of range): the scheduler logged it and went on.
   */
  stopped: z.optional(z.strictObject({ at: timestampSchema, reason: text(500) })),
  /** The series' shared fields. */
  base: z.optional(seriesBaseSchema),
});
export type TaskRecurrence = z.infer<typeof taskRecurrenceSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const taskSchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  subject: requiredText(),
  type: taskTypeKeySchema,
  status: z.enum(TASK_STATUSES),
  /** The instant the task is due. For all-day tasks: the start of `dueDate` in `timezone`. */
  dueAt: z.optional(timestampSchema),
  allDay: z.boolean(),
  /** The local day of an all-day task. */
  dueDate: z.optional(isoDateSchema),
  /**
   * The last instant the task is on time, derived by crmkit: `dueAt` for timed tasks, the last
   * millisecond of `dueDate` in `timezone` for all-day tasks (a day lasts 23 to 25 hours). The task is
   * overdue once now is after it: agenda, workload, reports, scheduler and observers all use it.
   */
  deadlineAt: z.optional(timestampSchema),
  /** IANA time zone the task was planned in (for all-day tasks and recurrence). */
  timezone: z.optional(text(64)),
  durationMinutes: z.optional(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 31))),
  ownerId: z.optional(userIdSchema),
  priority: z.enum(TASK_PRIORITIES),
  dealId: z.optional(idSchema),
  contactId: z.optional(idSchema),
  companyId: z.optional(idSchema),
  leadId: z.optional(idSchema),
  notes: optionalText(LIMITS.longText),
  outcome: optionalText(LIMITS.mediumText),
  completedAt: z.optional(timestampSchema),
  cancelledAt: z.optional(timestampSchema),
  postponeCount: z.number().check(int(), z.gte(0)),
  lastPostponeReason: optionalText(LIMITS.mediumText),
  /** Reminder offsets in minutes before `dueAt`. */
  reminders: z.array(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 60))),
  recurrence: z.optional(taskRecurrenceSchema),
  /** Set when a stage's task template created the task. */
  stageKey: z.optional(stageKeySchema),
  /** A required task must be done before its deal leaves the stage (with the `requiredTasksDone` rule). */
  required: z.boolean(),
  /** The task whose completion created this one (activity chaining). */
  previousTaskId: z.optional(idSchema),
  /** Scheduler watermark: reminders, due and overdue notices up to this time have been processed. */
  notifiedUntil: z.optional(timestampSchema),
  /** When the scheduler must next look at this task (earliest pending notice or recurrence). */
  nextNotifyAt: z.optional(timestampSchema),
  ...parentAccessShape,
  ...externalRefShape,
});
/** A planned or done action of a manager. */
export type Task = z.infer<ReturnType<typeof taskSchema>>;


const reminderListSchema = z.array(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 60))).check(z.maxLength(10));

/** The task fields a caller sets when planning one. */
export const taskPlanShape = {
  subject: requiredText(),
  /** `call`, `meeting`, `email`, `todo` or a tenant-defined type key (default `todo`). */
  type: z.optional(taskTypeKeySchema),
  /** When it is due (any ISO offset; stored as UTC). For all-day tasks give `dueDate` instead. */
  dueAt: z.optional(timestampInputSchema),
  allDay: z.optional(z.boolean()),
  dueDate: z.optional(isoDateSchema),
  /** IANA zone the task is planned in (default: the business calendar's). */
  timezone: z.optional(text(64)),
  durationMinutes: z.optional(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 31))),
  ownerId: z.optional(userIdSchema),
  priority: z.optional(z.enum(TASK_PRIORITIES)),
  notes: optionalText(LIMITS.longText),
  /** Reminder offsets in minutes before the due time. */
  reminders: z.optional(reminderListSchema),
  /** Recurrence rule (RRULE subset), e.g. `FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6`. */
  recurrence: z.optional(text(500)),
  required: z.optional(z.boolean()),
};

/** A next step given with a funnel move or a deal: a task linked to the deal. */
export const nextStepInputSchema = z.strictObject(taskPlanShape);
export type NextStepInput = z.input<typeof nextStepInputSchema>;

export const taskCreateInputSchema = z.strictObject({
  id: z.optional(idSchema),
  /** Ids of this task in other systems (see `ExternalRef`). */
  externalRefs: z.optional(externalRefsSchema),
  ...taskPlanShape,
  dealId: z.optional(idSchema),
  contactId: z.optional(idSchema),
  companyId: z.optional(idSchema),
  leadId: z.optional(idSchema),
});
export type TaskCreateInput = z.input<typeof taskCreateInputSchema>;
