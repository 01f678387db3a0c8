import * as z from 'zod/mini';
import { idSchema, timestampSchema, userIdSchema } from './primitives.js';
import { recordBaseShape } from './record.js';

/**
 * One entry of the persisted event log. It is written in the same transaction as the change it
 * describes, so the log is a reliable outbox, the timeline and the raw material of analytics.
 */
// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const eventLogEntrySchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  /** `deal.stageChanged`, `lead.converted`, … */
  type: z.string(),
  /** When it happened (the operation's clock time). */
  at: timestampSchema,
  /** The user who caused it; absent for the scheduler. */
  actorId: z.optional(userIdSchema),
  /** The record the event is about. */
  subjectType: z.string(),
  subjectId: idSchema,
  /** `type:id` keys of every record the event concerns (the subject and linked records): the timeline index. */
  refs: z.array(z.string()),
  /** Event-specific payload; see `CrmEventMap`. */
  data: z.record(z.string(), z.unknown()),
});
export type EventLogEntry = z.infer<ReturnType<typeof eventLogEntrySchema>>;
