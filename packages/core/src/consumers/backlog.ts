import { notFound, validationError } from '../errors/crm-error.js';
import { without } from '../domain/records.js';
import type { Filter } from '../query/query-spec.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { retryConcurrent } from '../crm/retry-concurrent.js';
import type { Page } from '../crm/list-options.js';
import { backlogId, consumerPartitions, partitionReach, type BacklogRow, type ConsumerRow } from './consumer-rows.js';
import { expireHeld } from './expire-held.js';
import { FEED_PRUNED_SETTING, feedHead, type FeedPrunedRow } from './feed-read.js';

/** Lists a consumer's backlog entries of one status, oldest first. */
export async function listBacklog(ctx: CrmContext, consumer: string, status: BacklogRow['status'], limit: number, cursor?: string): Promise<Page<BacklogRow>> {
  return runRead(ctx, async (op) => {
    const { rows, nextCursor } = await op.query<BacklogRow>('consumerBacklog', {
      filter: { op: 'and', filters: [{ op: 'eq', field: 'consumer', value: consumer }, { op: 'eq', field: 'status', value: status }] },
      sort: [{ field: 'position' }],
      limit,
      ...(cursor ? { after: cursor } : {}),
    });
    return { items: rows, ...(nextCursor ? { nextCursor } : {}) };
  });
}

/**
 * Puts parked events back in line: each becomes pending, due now, with its attempts reset, and is
 * tried before later events of its record.
 *
 * @throws CrmError `NOT_FOUND` when an event is not parked for this consumer; `VALIDATION` (`type_not_subscribed`)
 * when the consumer no longer takes the event's type (a webhook endpoint whose `types` changed).
 */
export async function replayParked(ctx: CrmContext, consumer: string, eventIds: readonly string[]): Promise<number> {
  return retryConcurrent(ctx, () => runWrite(ctx, async (op) => {
    const rows = await op.getMany<BacklogRow>('consumerBacklog', eventIds.map((id) => backlogId(consumer, id)));
    // A consumer whose types changed since (a webhook endpoint's) skips the others: a replay would silently do nothing.
    const types = (await consumerPartitions(op, consumer))[0]?.types;
    let count = 0;
    for (const [i, row] of rows.entries()) {
      if (!row || row.status !== 'parked') throw notFound('parked event', eventIds[i]!);
      if (types && !types.includes(row.event.type)) {
        throw validationError('events.replay', [{ path: ['eventIds', i], code: 'type_not_subscribed', message: `${consumer} does not take ${row.event.type} events (its types: ${types.join(', ')})` }]);
      }
      const rest = without(row, 'parkedAt');
      await op.update('consumerBacklog', row, { ...rest, version: row.version + 1, updatedAt: op.now, status: 'pending', attempts: 0, nextAttemptAt: op.now, replay: true, replayedAt: op.now } as BacklogRow);
      count++;
    }
    return count;
  }));
}

/**
 * Deletes parked events for good (after the host dealt with them). One above its partition's checkpoint
 * (a hand-over starts below it) becomes a `discarded` marker, listed nowhere, that the pass skips and
 * drops once the checkpoint passes it: the feed read would deliver it otherwise.
 *
 * @throws CrmError `NOT_FOUND` when an event is not parked for this consumer.
 */
export async function discardParked(ctx: CrmContext, consumer: string, eventIds: readonly string[]): Promise<number> {
  return retryConcurrent(ctx, () => runWrite(ctx, async (op) => {
    const rows = await op.getMany<BacklogRow>('consumerBacklog', eventIds.map((id) => backlogId(consumer, id)));
    const partitions = await consumerPartitions(op, consumer);
    for (const [i, row] of rows.entries()) {
      if (!row || row.status !== 'parked') throw notFound('parked event', eventIds[i]!);
      if (row.position > (partitions.find((p) => p.partition === row.partition)?.position ?? Infinity)) {
        await op.update('consumerBacklog', row, { ...row, version: row.version + 1, updatedAt: op.now, status: 'discarded' });
      } else await op.remove('consumerBacklog', row);
    }
    return rows.length;
  }));
}

/**
 * Deletes a consumer's rows inside a transaction: its partitions (checkpoints and leases) first, so
 * no process claims it any more and a pass that held it cannot commit, then its whole backlog
 * (pending and parked; paged, read after the partitions are gone so a pass that committed meanwhile
 * leaves nothing behind). Returns whether it existed.
 */
export async function removeConsumerRows(op: Operation, name: string): Promise<boolean> {
  const partitions = await consumerPartitions(op, name);
  if (partitions.length) await op.write('consumer', partitions.map((row) => ({ type: 'delete' as const, id: row.id })));
  let removed = 0;
  for (;;) {
    const { rows } = await op.query<BacklogRow>('consumerBacklog', { filter: { op: 'eq', field: 'consumer', value: name }, sort: [{ field: 'id' }], limit: 500 });
    if (rows.length) await op.write('consumerBacklog', rows.map((row) => ({ type: 'delete' as const, id: row.id })));
    removed += rows.length;
    if (rows.length < 500) break;
  }
  return partitions.length > 0 || removed > 0;
}

/**
 * Removes a consumer — partitions and backlog — in one transaction, so a removal cut short leaves the
 * consumer whole (its dead letters too) rather than half gone; retried while delivering processes
 * write its rows. Returns whether it existed.
 */
export async function removeConsumer(ctx: CrmContext, name: string): Promise<boolean> {
  return retryConcurrent(ctx, () => runWrite(ctx, (op) => removeConsumerRows(op, name)));
}

/** Each consumer partition's reach (see partitionReach) by id, with the row state it was read for. */
type Reaches = Map<string, readonly [stamp: string, reach: number]>;

/**
 * The lowest reach of `rows` (Infinity for none), reading again only partitions that changed since
 * `known` has them: a reach never goes down while the row's definition stays (a row removed and made
 * anew comes back with another stamp).
 */
async function slowestReach(op: Operation, rows: readonly ConsumerRow[], known: Reaches): Promise<number> {
  let head: number | undefined;
  let lowest = Infinity;
  for (const row of rows) {
    const stamp = JSON.stringify([row.version, row.position, row.partitions, row.types]);
    if (known.get(row.id)?.[0] !== stamp) known.set(row.id, [stamp, await partitionReach(op, row, (head ??= await feedHead(op)))]);
    lowest = Math.min(lowest, known.get(row.id)![1]);
  }
  return lowest;
}

/** Options of `crm.events.prune`. */
export interface PruneOptions {
  /**
   * Prune at most up to this position (default: the slowest consumer's checkpoint). Required when the
   * tenant has no consumer: then nothing records how far readers got, and a bare `prune()` would
   * delete the whole feed.
   */
  readonly through?: number;
  /** Only events of these types (e.g. the scheduler's `task.reminder` notices). */
  readonly types?: readonly string[];
  /** Only events that happened before this time. */
  readonly before?: string;
}

/** What `prune` did. */
export interface PruneReport {
  readonly deleted: number;
  /**
   * The bound pruned up to (no consumer needs anything at or below it). With `types` or `before`,
   * events outside the filter stay; `read().prunedThrough` then only moves up to the first of them.
   */
  readonly through: number;
}

/**
 * Deletes feed events every consumer is done with: positions up to the lowest reach of any consumer
 * partition (its checkpoint, or further up to right below its next event it takes, see partitionReach;
 * paused ones included; one with a `holdMs` first skips its events older than that, see
 * `expireHeld`), optionally capped, filtered by type and age. Deleted events leave
 * the timeline too. Records how far the feed is gone (the mark below every event still stored, so a
 * `types` prune does not hide the other types' events) so that readers with an older checkpoint
 * learn they missed events, and the highest position deleted, so that `head()` never goes back.
 *
 * @throws CrmError `VALIDATION` when the tenant has no consumer and `through` is not given.
 */
export async function pruneFeed(ctx: CrmContext, options: PruneOptions): Promise<PruneReport> {
  const known: Reaches = new Map();
  const reach = (row: ConsumerRow) => known.get(row.id)![1];
  const { base, held } = await runRead(ctx, async (op) => {
    const { rows } = await op.query<ConsumerRow>('consumer', {});
    if (!rows.length && options.through === undefined) {
      throw validationError('events.prune', [{ path: ['through'], code: 'invalid_type', message: 'is required when no consumer exists: nothing records how far readers got, so give the position to prune through' }]);
    }
    await slowestReach(op, rows, known);
    // Consumers with a `holdMs` hold young events only (see expireHeld).
    return { base: Math.min(...rows.filter((r) => !r.holdMs).map(reach), options.through ?? Infinity, await feedHead(op)), held: rows.filter((r) => r.holdMs) };
  });
  const bound = held.length ? await expireHeld(ctx, held, base, reach) : base;
  let deleted = 0;
  let highest = 0;
  if (bound <= 0) return { deleted, through: 0 };
  const filters: Filter[] = [
    { op: 'gt', field: 'position', value: 0 },
    { op: 'lte', field: 'position', value: bound },
  ];
  if (options.types) filters.push({ op: 'in', field: 'type', values: options.types });
  if (options.before) filters.push({ op: 'lt', field: 'at', value: options.before });
  // Each batch reads the slowest reach again: a consumer created since (from the beginning, or
  // from a position below the bound) holds the rest of the prune back.
  let effective = bound;
  for (;;) {
    const count = await runWrite(ctx, async (op) => {
      const min = await slowestReach(op, (await op.query<ConsumerRow>('consumer', {})).rows, known);
      if (min < effective) effective = Math.max(min, highest);
      const capped = filters.map((f) => (f.op === 'lte' && f.field === 'position' ? { ...f, value: effective } : f));
      const { rows } = await op.query<BacklogRow>('event', { filter: { op: 'and', filters: capped }, sort: [{ field: 'position' }], limit: 500 });
      if (rows.length) await op.write('event', rows.map((row) => ({ type: 'delete' as const, id: row.id })));
      highest = Math.max(highest, rows[rows.length - 1]?.position ?? 0);
      return rows.length;
    });
    deleted += count;
    if (count < 500) break;
  }
  await runWrite(ctx, async (op) => {
    // Read and written under the row's lock: a prune in another process waits, then extends this mark.
    await op.tx.lockKeys(op.tenantId, [`setting:${FEED_PRUNED_SETTING}`]);
    // The mark stops below the first event still stored (another type, or newer than `before`).
    const { rows: kept } = await op.query<BacklogRow>('event', { filter: { op: 'and', filters: [{ op: 'gt', field: 'position', value: 0 }, { op: 'lte', field: 'position', value: effective }] }, sort: [{ field: 'position' }], limit: 1 });
    const mark = kept[0] ? kept[0].position - 1 : effective;
    const [row] = await op.getMany<FeedPrunedRow>('setting', [FEED_PRUNED_SETTING]);
    const value = Math.max(row?.value ?? 0, mark);
    const head = Math.max(row?.head ?? 0, highest, value);
    if (row && row.value === value && row.head === head) return;
    const next: FeedPrunedRow = { id: FEED_PRUNED_SETTING, tenantId: op.tenantId, version: (row?.version ?? 0) + 1, createdAt: row?.createdAt ?? op.now, updatedAt: op.now, key: FEED_PRUNED_SETTING, value, head };
    if (row) await op.update('setting', row, next as never);
    else await op.insert('setting', next as never);
  });
  return { deleted, through: effective };
}
