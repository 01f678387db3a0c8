import * as z from 'zod/mini';
import { externalRefsSchema } from './external-ref.js';
import { clearable, int, isoDateSchema, LIMITS, text, timestampInputSchema, userIdSchema } from './primitives.js';

// Apart from schema/task.ts so a reader of the update's fields (automations) does not bundle the task record's schemas.
export const TASK_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

export const taskTypeKeySchema = z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a task type key like "call"'));

/** A change to a task (`tasks.update`); the fields a `task.updated` event can report. */
export const taskUpdateInputSchema = z.strictObject({
  version: z.optional(z.number().check(int(), z.gte(1))),
  externalRefs: clearable(externalRefsSchema),
  /** `this` (default) changes this occurrence; `following` changes the series from here on. */
  scope: z.optional(z.enum(['this', 'following'])),
  subject: z.optional(z.string().check(z.minLength(1), z.maxLength(LIMITS.shortText))),
  type: z.optional(taskTypeKeySchema),
  dueAt: z.optional(timestampInputSchema),
  allDay: z.optional(z.boolean()),
  dueDate: z.optional(isoDateSchema),
  durationMinutes: clearable(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 31))),
  ownerId: clearable(userIdSchema),
  priority: z.optional(z.enum(TASK_PRIORITIES)),
  notes: clearable(text(LIMITS.longText)),
  reminders: z.optional(z.array(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 60))).check(z.maxLength(10))),
  required: z.optional(z.boolean()),
  /** A new rule for the series from this occurrence on (`following` only). */
  recurrence: z.optional(text(500)),
});
