import * as z from 'zod/mini';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import type { Filter } from '../query/query-spec.js';
import { LIMITS, int } from '../schema/primitives.js';
import { recordRefSchema, refKey, type RecordBase, type RecordRef } from '../schema/record.js';
import type { Contact } from '../schema/contact.js';
import type { Deal } from '../schema/deal.js';
import type { EventField } from '../storage/crm-schema.js';
import type { CrmContext } from '../crm/context.js';
import { listRecords, type ListOptions, type Page } from '../crm/list-options.js';
import { runRead, type Operation } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';

/** Options of `crm.timeline`. */
export interface TimelineOptions {
  /** Only these event types (e.g. `['activity.logged', 'deal.stageChanged']`). */
  readonly types?: readonly CrmEventName[];
  /** Page size, 1–1000 (default 50). */
  readonly limit?: number;
  readonly cursor?: string;
}

const optionsSchema = z.strictObject({
  types: z.optional(z.array(z.string().check(z.regex(/^[a-zA-Z]+\.[a-zA-Z]+$/, 'must be an event type like "deal.won"'))).check(z.minLength(1), z.maxLength(100))),
  limit: z.optional(z.number().check(int(), z.gte(1), z.lte(LIMITS.listLimit))),
  cursor: z.optional(z.string()),
});

/** Ids per lookup page while collecting a timeline's keys (pages only bound memory per call: all are read). */
const KEY_PAGE = 1000;

/**
 * All `type:id` keys whose events belong on a record's timeline — every one, however many deals or
 * contacts a company has. Throws `NOT_FOUND` for a record the tenant never had (removed ones keep
 * their history).
 */
async function timelineKeys(op: Operation, ref: RecordRef): Promise<string[]> {
  // In a view the record must be readable; a removed one only by those who read every record of its kind.
  const { record } = await op.requireReadableHistory<Contact | Deal | RecordBase>(ref.type, ref.id);
  const keys = new Set([refKey(ref)]);
  const add = (type: string, ids: readonly (string | undefined)[]) => ids.forEach((id) => id && keys.add(`${type}:${id}`));
  const ids = async (entity: string, filter: Filter & { readonly field: string }) => {
    const out: string[] = [];
    // A link the principal may not read brings nothing in (as a list filter on it would be refused).
    if (op.guard && !op.guard.readable(entity, filter.field)) return out;
    let after: string | undefined;
    do {
      // Only related records the principal may read bring their history in.
      const page = await op.query(entity, { filter: op.scoped(entity, filter), sort: [{ field: 'id' }], limit: KEY_PAGE, ...(after ? { after } : {}) });
      for (const row of page.rows) out.push(row.id);
      after = page.nextCursor;
    } while (after);
    return out;
  };
  // The lead a record came from, when the principal may read it (a removed one: when it reads every lead).
  const readableLead = async (leadId: string | undefined): Promise<string | undefined> => {
    if (!leadId || !op.guard) return leadId;
    if (!op.guard.readable(ref.type, 'leadId')) return undefined;
    const lead = await op.get('lead', leadId);
    return (lead ? op.guard.canRead('lead', lead) : op.guard.reachesAll('lead', 'read')) ? leadId : undefined;
  };
  switch (ref.type) {
    case 'contact': {
      // The leads the contact came from: their history before conversion is the contact's too.
      add('lead', [await readableLead((record as Contact).leadId)]);
      add('lead', await ids('lead', { op: 'eq', field: 'converted.contactId', value: ref.id }));
      // Deals linked later still bring their whole history.
      add('deal', await ids('deal', { op: 'eq', field: 'contactId', value: ref.id }));
      break;
    }
    case 'company':
      add('contact', await ids('contact', { op: 'eq', field: 'companyId', value: ref.id }));
      add('deal', await ids('deal', { op: 'eq', field: 'companyId', value: ref.id }));
      add('lead', await ids('lead', { op: 'eq', field: 'converted.companyId', value: ref.id }));
      break;
    case 'deal':
      add('lead', [await readableLead((record as Deal).leadId)]);
      break;
  }
  return [...keys];
}

/**
 * Reads a record's timeline: every event about it and the records around it (a contact's leads,
 * a company's contacts, deals and activities), newest first, paginated. Works for removed records too:
 * history stays.
 *
 * @throws CrmError `NOT_FOUND` for a record the tenant never had; `VALIDATION` for a bad ref or options.
 */
export async function readTimeline(ctx: CrmContext, ref: RecordRef, options: TimelineOptions = {}): Promise<Page<CrmEvent>> {
  return (await readTimelineWithKeys(ctx, ref, options)).page;
}

/** A timeline page together with the record keys it covers (observers watch those keys). */
export async function readTimelineWithKeys(ctx: CrmContext, ref: RecordRef, options: TimelineOptions = {}): Promise<{ page: Page<CrmEvent>; keys: string[] }> {
  const target = parseInput(recordRefSchema, ref, 'timeline');
  const opts = parseInput(optionsSchema, options, 'timeline');
  return runRead(ctx, async (op) => {
    const keys = await timelineKeys(op, target);
    // The keys are ours, not the caller's: an internal filter, not held to the 1000-value limit of caller filters.
    const page = (await listRecords(
      op,
      'event',
      {
        ...(opts.types ? { where: { op: 'in', field: 'type', values: opts.types } } : {}),
        orderBy: [{ field: 'at', direction: 'desc' }, { field: 'id', direction: 'desc' }],
        limit: opts.limit,
        cursor: opts.cursor,
      },
      'timeline',
      undefined,
      { op: 'containsAny', field: 'refs', values: keys },
    )) as unknown as Page<CrmEvent>;
    return { page, keys };
  });
}

/**
 * The persisted event log: every change, in the transaction that made it. Drain it as an outbox
 * (`orderBy: at, id` with a cursor) or drill down into figures. `crm.eventLog`.
 */
export class EventLogService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Lists events, oldest first by default.
   *
   * @example
   * let page = await crm.eventLog.list({ where: where.eq('type', 'deal.won'), limit: 100 });
   */
  async list(options?: ListOptions<EventField>): Promise<Page<CrmEvent>> {
    return runRead(this.ctx, (op) =>
      listRecords(op, 'event', options, 'eventLog.list', [{ field: 'at' }, { field: 'id' }]) as unknown as Promise<Page<CrmEvent>>,
    );
  }
}
