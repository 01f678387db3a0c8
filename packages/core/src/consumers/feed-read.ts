import * as z from 'zod/mini';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import { isEventType } from '../events/event-types.js';
import type { Filter } from '../query/query-spec.js';
import type { Operation } from '../crm/operation.js';
import type { RecordBase } from '../schema/record.js';
import { deepFreeze } from '../storage/deep-freeze.js';

/** Event types as filters name them: `deal.won`, `task.due`, … */
export const eventTypeSchema = z.string().check(
  // A malformed type is reported once: the check against crmkit's types runs only on well-formed ones.
  z.regex(/^[a-zA-Z]+\.[a-zA-Z]+$/, { message: 'must be an event type like "deal.won"', abort: true }),
  z.refine(isEventType, 'is not an event type crmkit records (see CrmEventName; custom events are "custom.<name>")'),
);

/** A list of event types to keep: 1–100 of them. */
export const eventTypesSchema = z.array(eventTypeSchema).check(z.minLength(1), z.maxLength(100));

/** A feed position: an integer ≥ 0 (0 is before the first event). */
export const positionSchema = z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));

/** One page of the change feed. */
export interface FeedPage {
  /** Events after `after`, in commit order (ascending `position`), at most `limit`. */
  readonly events: readonly CrmEvent[];
  /**
   * Where the next read continues (`read({ after: page.position })`): the last event's position, or
   * further when a `types` filter skipped events (up to `head` when nothing else matched). Store it as
   * your checkpoint.
   */
  readonly position: number;
  /** The newest position in the feed when the page was read. */
  readonly head: number;
  /** More events may follow right away (the page is full). */
  readonly hasMore: boolean;
  /**
   * Events at or below this position were pruned (`crm.events.prune`). A checkpoint below it has
   * missed events for good: rebuild from current state, then continue from `position`.
   */
  readonly prunedThrough: number;
}

/** The setting row that records how far the feed was pruned. */
export const FEED_PRUNED_SETTING = 'feedPrunedThrough';

/** The prune record: `value` is the pruned-through mark, `head` the highest position ever pruned. */
export interface FeedPrunedRow extends RecordBase {
  readonly key: string;
  readonly value: number;
  readonly head?: number;
}

async function prunedRow(op: Operation): Promise<FeedPrunedRow | undefined> {
  const [row] = await op.getMany<FeedPrunedRow>('setting', [FEED_PRUNED_SETTING]);
  return row ?? undefined;
}

/**
 * The tenant's newest feed position (0 when empty). Pruning the newest events does not move it back:
 * the next event gets a larger position, and a head that went down would look like a reset feed.
 */
export async function feedHead(op: Operation): Promise<number> {
  const { rows } = await op.query<CrmEvent>('event', { filter: { op: 'gt', field: 'position', value: 0 }, sort: [{ field: 'position', direction: 'desc' }], limit: 1 });
  const stored = rows[0]?.position ?? 0;
  const pruned = await prunedRow(op);
  return Math.max(stored, typeof pruned?.head === 'number' ? pruned.head : 0, typeof pruned?.value === 'number' ? pruned.value : 0);
}

/** How far the feed was pruned (0: never): every event at or below it is gone. */
export async function prunedThrough(op: Operation): Promise<number> {
  const row = await prunedRow(op);
  return typeof row?.value === 'number' ? row.value : 0;
}

/** What a feed read selects beyond the position range. */
export interface FeedSelection {
  readonly types?: readonly (CrmEventName | string)[];
  /** Only events whose `shard` is one of these (a consumer partition). */
  readonly shards?: readonly number[];
  /** A further filter on event rows (a view's pushed-down prefilter of the subject types it may read). */
  readonly filter?: Filter;
}

/**
 * Reads feed events after `after`, up to the head read first (so a memory adapter, which has no
 * snapshot, gives the same answer as the SQL ones), in position order. The events are deeply frozen
 * (once per read; the memory adapter's rows already are): every handler of a consumer gets the event
 * the feed holds, on every adapter, and a handler that changes its event cannot change what its
 * retries, a replay or the backlog get.
 *
 * @param op A read operation.
 * @param after The checkpoint: events with a larger position are returned.
 * @param limit At most this many events.
 * @param selection Type and shard filters.
 */
export async function readFeedPage(op: Operation, after: number, limit: number, selection: FeedSelection = {}): Promise<FeedPage> {
  const head = await feedHead(op);
  const pruned = await prunedThrough(op);
  if (after >= head) return { events: [], position: Math.max(after, 0), head, hasMore: false, prunedThrough: pruned };
  const filters: Filter[] = [
    { op: 'gt', field: 'position', value: after },
    { op: 'lte', field: 'position', value: head },
  ];
  if (selection.shards) filters.push({ op: 'in', field: 'shard', values: selection.shards });
  if (selection.types) filters.push({ op: 'in', field: 'type', values: selection.types });
  if (selection.filter) filters.push(selection.filter);
  const { rows } = await op.query<CrmEvent>('event', { filter: { op: 'and', filters }, sort: [{ field: 'position' }], limit });
  rows.forEach(deepFreeze);
  const full = rows.length === limit;
  // A short page saw everything up to the head: the checkpoint moves past the skipped events too.
  const position = full ? rows[rows.length - 1]!.position! : head;
  return { events: rows, position, head, hasMore: full && position < head, prunedThrough: pruned };
}
