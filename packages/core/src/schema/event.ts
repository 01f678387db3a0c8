import * as z from 'zod/mini';
import { idSchema, timestampSchema, userIdSchema } from './primitives.js';
import { recordBaseShape } from './record.js';

/**
 * One entry of the persisted event log. It is written in the same transaction as the change it
 * describes, so the log is a reliable outbox, the timeline and the raw material of analytics.
 */
// The stored record's shape, built on call: core makes records and never parses them back, so bundles skip it.
export const eventLogEntryShape = () => ({
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
  /**
   * Position in the tenant's change feed: 1, 2, 3… in commit order, without gaps (see
   * `StorageTx.nextSequence`). Absent on events recorded before schema version 6.
   */
  position: z.optional(z.number().check(z.int(), z.gte(1))),
  /** 0–255, a hash of `subjectId`: consumers partition the feed by it, so one record's events stay in order. */
  shard: z.optional(z.number().check(z.int(), z.gte(0), z.lte(255))),
  /** Set on events an automation run recorded: the run, its rule, how deep the chain of runs is, the rules in it. */
  cause: z.optional(z.strictObject({ runId: z.string(), ruleId: z.string(), depth: z.number().check(z.int(), z.gte(0)), chain: z.array(z.string()) })),
});
export const eventLogEntrySchema = () => z.strictObject(eventLogEntryShape());
export type EventLogEntry = z.infer<ReturnType<typeof eventLogEntrySchema>>;
