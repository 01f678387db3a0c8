import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite, shardOf } from '../crm/operation.js';
import { removeConsumerRows } from '../consumers/backlog.js';
import { backlogId, consumerPartitions, type BacklogRow } from '../consumers/consumer-rows.js';
import { prunedThrough } from '../consumers/feed-read.js';
import { retryConcurrent } from '../crm/retry-concurrent.js';
import { insertMany } from '../crm/feature-writes.js';

/**
 * Where the per-type notice consumers start when the single notice consumer of earlier versions
 * (`legacy`) is there: its slowest checkpoint, but never inside the pruned part of the feed (its backlog
 * — retries and parked notices — moves over with its event copies, so nothing below is needed).
 * `'now'` when there is none.
 */
export async function handoverStart(ctx: CrmContext, legacy: string): Promise<number | 'now'> {
  return runRead(ctx, async (op) => {
    const rows = await consumerPartitions(op, legacy);
    return rows.length ? Math.max(Math.min(...rows.map((r) => r.position)), await prunedThrough(op)) : 'now';
  });
}

/**
 * Moves the legacy consumer's backlog rows (status, attempts, event copy kept) to the consumer of
 * their notice type (`<legacy>:<type>`, partition by shard) and removes the legacy consumer, in one
 * transaction: a hand-over cut short leaves it whole, and one done by another process meanwhile
 * leaves nothing to do.
 */
export async function handOver(ctx: CrmContext, legacy: string, types: readonly string[], partitions: number): Promise<void> {
  await retryConcurrent(ctx, () =>
    runWrite(ctx, async (op) => {
      const { rows } = await op.query<BacklogRow>('consumerBacklog', { filter: { op: 'eq', field: 'consumer', value: legacy } });
      const moved = rows
        .filter((row) => types.includes(row.event.type))
        .map((row): BacklogRow => {
          const consumer = `${legacy}:${row.event.type}`;
          return { ...row, id: backlogId(consumer, row.eventId), consumer, partition: shardOf(row.subjectId) % partitions, version: 1, updatedAt: op.now };
        });
      const there = new Set((await op.getMany<BacklogRow>('consumerBacklog', moved.map((r) => r.id))).filter(Boolean).map((r) => r!.id));
      const fresh = moved.filter((r) => !there.has(r.id));
      if (fresh.length) await insertMany(op, 'consumerBacklog', fresh);
      await removeConsumerRows(op, legacy);
    }),
  );
}
