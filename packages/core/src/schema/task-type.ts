import * as z from 'zod/mini';
import { optionalText, requiredText, int } from './primitives.js';
import { taskTypeKeySchema } from './task.js';

/**
 * Activity chaining: completing a task of this type suggests (or creates) the next one, with a
 * delay counted from the completion or from the previous deadline.
 */
export const taskChainSchema = z.strictObject({
  /** Type of the next task. */
  type: taskTypeKeySchema,
  /** Subject of the next task (default: the type's label). */
  subject: optionalText(),
  delay: z.strictObject({
    amount: z.number().check(int(), z.gte(0), z.lte(3650)),
    unit: z.enum(['minutes', 'hours', 'days', 'businessDays', 'workingHours']),
    at: z.optional(z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'))),
  }),
  from: z._default(z.enum(['completion', 'deadline']), 'completion'),
  /** `auto` creates the task on completion; `suggest` returns it for the UI to confirm. */
  mode: z._default(z.enum(['suggest', 'auto']), 'suggest'),
});
export type TaskChain = z.infer<typeof taskChainSchema>;

export const taskTypeSchema = z.strictObject({
  key: taskTypeKeySchema,
  label: requiredText(100),
  /** Default reminder offsets (minutes before due) for tasks of this type. */
  reminders: z.optional(z.array(z.number().check(int(), z.gte(0), z.lte(60 * 24 * 60))).check(z.maxLength(10))),
  chain: z.optional(taskChainSchema),
});
export type TaskTypeDefinition = z.infer<typeof taskTypeSchema>;
export type TaskTypeInput = z.input<typeof taskTypeSchema>;

// Frozen: every crm shares them, and `crm.tasks.listTypes()` hands them out.
export const DEFAULT_TASK_TYPES: readonly TaskTypeDefinition[] = Object.freeze([
  Object.freeze({ key: 'call', label: 'Call' }),
  Object.freeze({ key: 'meeting', label: 'Meeting' }),
  Object.freeze({ key: 'email', label: 'E-mail' }),
  Object.freeze({ key: 'todo', label: 'To-do' }),
]);
