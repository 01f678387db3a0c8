import * as z from 'zod/mini';
import { idSchema, requiredText, userIdSchema, int } from './primitives.js';

/** Who a template's task goes to. */
export const assigneeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('dealOwner') }),
  z.strictObject({ kind: z.literal('user'), userId: userIdSchema }),
  z.strictObject({ kind: z.literal('strategy'), strategyId: idSchema }),
]);
export type Assignee = z.infer<typeof assigneeSchema>;

/** A task created automatically when a deal enters the stage. */
export const taskTemplateSchema = z.strictObject({
  subject: requiredText(),
  type: z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a task type key like "call"')),
  /** Due `amount` units after entry; `businessDays` uses the tenant's business calendar; `at` sets the local time. */
  due: z.strictObject({
    amount: z.number().check(int(), z.gte(0), z.lte(3650)),
    unit: z.enum(['minutes', 'hours', 'days', 'businessDays', 'workingHours']),
    at: z.optional(z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'))),
  }),
  assignee: z._default(assigneeSchema, { kind: 'dealOwner' }),
  /** Required tasks must be done before the deal may leave the stage when the `requiredTasksDone` rule applies. */
  required: z._default(z.boolean(), false),
  priority: z.optional(z.enum(['low', 'normal', 'high', 'urgent'])),
});
export type TaskTemplate = z.infer<typeof taskTemplateSchema>;
export type TaskTemplateInput = z.input<typeof taskTemplateSchema>;
