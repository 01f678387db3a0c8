import * as z from 'zod/mini';
import { eventLogEntryShape } from '../schema/event.js';
import { eventTypeSchema } from '../consumers/feed-read.js';
import { AUTOMATION_ENTITIES } from './automation-schema.js';
import { updatedField } from './record-fields.js';

type Issue = [path: (string | number)[], message: string];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown) => typeof v === 'string' && v !== '';

/**
 * Where an event's `data` does not fit its type (`CrmEventMap`), for what the trigger matching reads:
 * `*.updated` changes `{ field: { from, to } }` whose plain values the field can hold, stage moves'
 * `from` / `to`, assignments' `ownerId` / `reason`, and a `*.created` or `*.removed` event's record, when given, being the subject.
 */
function dataIssues(type: string, subjectId: string, data: Record<string, unknown>): Issue[] {
  const [entity, verb] = type.split('.') as [string, string];
  const out: Issue[] = [];
  const text = (...keys: string[]) => keys.forEach((key) => isText(data[key]) || out.push([[key], 'must be text']));
  if (verb === 'updated') {
    const changes = data['changes'];
    if (!isObject(changes)) return [[['changes'], 'must be an object { field: { from, to } }']];
    for (const [field, change] of Object.entries(changes)) {
      if (!isObject(change) || !('to' in change)) {
        out.push([['changes', field], 'must be { from, to }']);
        continue;
      }
      let leaf: unknown = updatedField(entity, field);
      while ((leaf as { def?: { innerType?: unknown } } | null)?.def?.innerType) leaf = (leaf as { def: { innerType: unknown } }).def.innerType;
      const schema = leaf as z.ZodMiniType | null | undefined;
      // Objects and lists are stored otherwise than given (line items, recurrence): only plain values are checked.
      if (!schema || ['array', 'object', 'record'].includes(schema.def.type)) continue;
      for (const key of ['from', 'to']) if (change[key] != null && !schema.safeParse(change[key]).success) out.push([['changes', field, key], `${JSON.stringify(change[key])} is no value "${field}" can hold`]);
    }
  } else if (type === 'deal.stageChanged' || type === 'deal.stageReassigned') text('from', 'to');
  else if (verb === 'assigned') text('ownerId', 'reason');
  else if ((verb === 'created' || verb === 'removed') && entity in data) {
    // Left out, the run reads the stored record; given, it must be that record (a removed one's rule reads it there).
    const record = data[entity];
    if (!isObject(record) || record['id'] !== subjectId) out.push([[entity], `must be the ${verb} ${entity}, with id ${subjectId} (the event's subjectId)`]);
  }
  return out;
}

/**
 * The event `simulate` takes: the event log entry's own schema, with what the log adds on write
 * (id, timestamps, refs, feed position) optional so a hand-written event `{ type, subjectType,
 * subjectId, data }` will do. The type must be one crmkit records, the subject a record automation
 * runs for and, for a record's own event (`deal.won`), of that type: a malformed event is refused
 * instead of simulating a run no real event could start, and so is `data` that does not fit the type
 * (`dataIssues`).
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
      z.superRefine((e, ctx) => {
        for (const [path, message] of dataIssues(e.type, e.subjectId, e.data ?? {})) ctx.issues.push({ code: 'custom', path: ['data', ...path], message, input: e.data });
      }),
    );
};
