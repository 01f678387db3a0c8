import { notFound } from '../errors/crm-error.js';
import { without } from '../domain/records.js';
import type { Filter } from '../query/query-spec.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import type { Page } from '../crm/list-options.js';
import { backlogId, consumerPartitions, type BacklogRow } from './consumer-rows.js';
import { FEED_PRUNED_SETTING } from './feed-read.js';

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
 * @throws CrmError `NOT_FOUND` when an event is not parked for this consumer.
 */
export async function replayParked(ctx: CrmContext, consumer: string, eventIds: readonly string[]): Promise<number> {
  return runWrite(ctx, async (op) => {
    const rows = await op.getMany<BacklogRow>('consumerBacklog', eventIds.map((id) => backlogId(consumer, id)));
    let count = 0;
    for (const [i, row] of rows.entries()) {
      if (!row || row.status !== 'parked') throw notFound('parked event', eventIds[i]!);
      const rest = without(row, 'parkedAt');
      await op.update('consumerBacklog', row, { ...rest, version: row.version + 1, updatedAt: op.now, status: 'pending', attempts: 0, nextAttemptAt: op.now, replay: true } as BacklogRow);
      count++;
    }
    return count;
  });
}

/**
 * Deletes parked events for good (after the host dealt with them).
 *
 * @throws CrmError `NOT_FOUND` when an event is not parked for this consumer.
 */
export async function discardParked(ctx: CrmContext, consumer: string, eventIds: readonly string[]): Promise<number> {
  return runWrite(ctx, async (op) => {
    const rows = await op.getMany<BacklogRow>('consumerBacklog', eventIds.map((id) => backlogId(consumer, id)));
    for (const [i, row] of rows.entries()) {
      if (!row || row.status !== 'parked') throw notFound('parked event', eventIds[i]!);
      await op.remove('consumerBacklog', row);
    }
    return rows.length;
  });
}

/** Removes a consumer: its partitions (checkpoints and leases) and its backlog. Returns whether it existed. */
export async function removeConsumer(ctx: CrmContext, name: string): Promise<boolean> {
  let existed = false;
  for (;;) {
    const more = await runWrite(ctx, async (op) => {
      const { rows } = await op.query<BacklogRow>('consumerBacklog', { filter: { op: 'eq', field: 'consumer', value: name }, limit: 500 });
      for (const row of rows) await op.remove('consumerBacklog', row);
      if (rows.length === 500) return true;
      const partitions = await consumerPartitions(op, name);
      existed = partitions.length > 0;
      for (const row of partitions) await op.remove('consumer', row);
      return false;
    });
    if (!more) return existed;
  }
}

/** Options of `crm.events.prune`. */
export interface PruneOptions {
  /** Prune at most up to this position (default: the slowest consumer's checkpoint). */
  readonly through?: number;
  /** Only events of these types (e.g. the scheduler's `task.reminder` notices). */
  readonly types?: readonly string[];
  /** Only events that happened before this time. */
  readonly before?: string;
}

/** What `prune` did. */
export interface PruneReport {
  readonly deleted: number;
  /** The position pruned through (no consumer needs anything at or below it). */
  readonly through: number;
}

/**
 * Deletes feed events every consumer is done with: positions up to the slowest checkpoint of any
 * consumer (paused ones included), optionally capped, filtered by type and age. Deleted events leave
 * the timeline too. Records the bound so that readers with an older checkpoint learn they missed events.
 */
export async function pruneFeed(ctx: CrmContext, options: PruneOptions): Promise<PruneReport> {
  const bound = await runRead(ctx, async (op) => {
    const [slowest] = await op.tx.aggregate('consumer', op.tenantId, { metrics: { min: { fn: 'min', field: 'position' } } });
    const min = slowest?.values.min;
    const { rows } = await op.query<{ position?: number } & BacklogRow>('event', { filter: { op: 'gt', field: 'position', value: 0 }, sort: [{ field: 'position', direction: 'desc' }], limit: 1 });
    const head = rows[0]?.position ?? 0;
    return Math.min(typeof min === 'number' ? min : head, options.through ?? Infinity, head);
  });
  let deleted = 0;
  if (bound <= 0) return { deleted, through: 0 };
  const filters: Filter[] = [
    { op: 'gt', field: 'position', value: 0 },
    { op: 'lte', field: 'position', value: bound },
  ];
  if (options.types) filters.push({ op: 'in', field: 'type', values: options.types });
  if (options.before) filters.push({ op: 'lt', field: 'at', value: options.before });
  for (;;) {
    const count = await runWrite(ctx, async (op) => {
      const { rows } = await op.query<BacklogRow>('event', { filter: { op: 'and', filters }, sort: [{ field: 'position' }], limit: 500 });
      if (rows.length) await op.tx.write('event', op.tenantId, rows.map((row) => ({ type: 'delete' as const, id: row.id })));
      return rows.length;
    });
    deleted += count;
    if (count < 500) break;
  }
  await runWrite(ctx, async (op) => {
    const [row] = await op.getMany<BacklogRow & { key: string; value: number }>('setting', [FEED_PRUNED_SETTING]);
    if (row && row.value >= bound) return;
    const next = { id: FEED_PRUNED_SETTING, tenantId: op.tenantId, version: (row?.version ?? 0) + 1, createdAt: row?.createdAt ?? op.now, updatedAt: op.now, key: FEED_PRUNED_SETTING, value: bound };
    if (row) await op.update('setting', row, next as never);
    else await op.insert('setting', next as never);
  });
  return { deleted, through: bound };
}
