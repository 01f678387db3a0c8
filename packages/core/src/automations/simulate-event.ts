import * as z from 'zod/mini';
import { eventLogEntryShape } from '../schema/event.js';
import { eventTypeSchema } from '../consumers/feed-read.js';
import { AUTOMATION_ENTITIES } from './automation-schema.js';

/**
 * The event `simulate` takes: the event log entry's own schema, with what the log adds on write
 * (id, timestamps, refs, feed position) optional so a hand-written event `{ type, subjectType,
 * subjectId, data }` will do. The type must be one crmkit records, the subject a record automation
 * runs for and, for a record's own event (`deal.won`), of that type: a malformed event is refused
 * instead of simulating a run no real event could start.
 */
export const simulateEventSchema = () => {
  const entry = eventLogEntryShape();
  return z
    .strictObject({
      ...entry,
      id: z.optional(entry.id), tenantId: z.optional(entry.tenantId), version: z.optional(entry.version), createdAt: z.optional(entry.createdAt),
      updatedAt: z.optional(entry.updatedAt), at: z.optional(entry.at), refs: z.optional(entry.refs), data: z.optional(entry.data),
      type: eventTypeSchema,
      subjectType: z.enum(AUTOMATION_ENTITIES),
    })
    .check(
      z.refine((e) => !(AUTOMATION_ENTITIES as readonly string[]).includes(e.type.split('.')[0]!) || e.type.startsWith(`${e.subjectType}.`), {
        path: ['subjectType'],
        message: 'must be the record type the event type names (a "deal.won" event is about a deal)',
      }),
    );
};
