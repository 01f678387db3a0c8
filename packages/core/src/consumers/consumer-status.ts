import type { CrmEvent } from '../events/event-map.js';
import type { Filter } from '../query/query-spec.js';
import type { Operation } from '../crm/operation.js';
import { afterCheckpoint, consumerPartitions, type BacklogRow, type ConsumerError, type ConsumerRow } from './consumer-rows.js';
import { feedHead } from './feed-read.js';

/** One partition of a consumer as `status` reports it. */
export interface PartitionStatus {
  readonly partition: number;
  /** Checkpoint: events up to here are handled, queued for retry or parked. */
  readonly position: number;
  /** Events of this partition after the checkpoint (for the consumer's types). */
  readonly lag: number;
  /** Who holds the partition now, until when (absent: free). */
  readonly leaseOwner?: string;
  readonly leaseUntil?: string;
  /** When the last pass that committed began (ISO time). */
  readonly lastRunAt?: string;
}

/** Progress and health of a consumer. */
export interface ConsumerStatus {
  readonly name: string;
  readonly group: string;
  readonly types?: readonly string[];
  readonly paused: boolean;
  /** The feed's newest position. */
  readonly head: number;
  /** The lowest checkpoint of its partitions. */
  readonly position: number;
  /** Events not yet handled: the sum of the partitions' lag. */
  readonly lag: number;
  /**
   * How long the oldest unhandled event has waited since it was recorded, ms: events after the
   * checkpoints and events pending a retry count, parked ones do not (see `parked`). 0 when caught up.
   */
  readonly lagMs: number;
  /** Events waiting for a retry (or behind one of their record), and parked dead letters. */
  readonly pending: number;
  readonly parked: number;
  /** Totals over the consumer's life. */
  readonly handled: number;
  readonly failures: number;
  /** Events skipped unhandled because they outlived the consumer's `holdMs` and were pruned. */
  readonly expired: number;
  readonly lastError?: ConsumerError;
  readonly partitions: readonly PartitionStatus[];
}

/** Reads a consumer's status, or undefined when it does not exist. */
export async function readConsumerStatus(op: Operation, name: string): Promise<ConsumerStatus | undefined> {
  const rows = await consumerPartitions(op, name);
  if (rows.length === 0) return undefined;
  const head = await feedHead(op);
  const partitions: PartitionStatus[] = [];
  let oldest: string | undefined;
  for (const row of rows) {
    const filter: Filter = { op: 'and', filters: afterCheckpoint(row) };
    const [counted] = await op.tx.aggregate('event', op.tenantId, { filter, metrics: { n: { fn: 'count' } } });
    const lag = Number(counted?.values.n ?? 0);
    if (lag > 0) {
      const { rows: first } = await op.query<CrmEvent>('event', { filter, sort: [{ field: 'position' }], limit: 1 });
      const at = first[0]?.at;
      if (at && (oldest === undefined || at < oldest)) oldest = at;
    }
    partitions.push({
      partition: row.partition,
      position: row.position,
      lag,
      ...(row.leaseOwner && row.leaseUntil && row.leaseUntil > op.now ? { leaseOwner: row.leaseOwner, leaseUntil: row.leaseUntil } : {}),
      ...(row.lastRunAt ? { lastRunAt: row.lastRunAt } : {}),
    });
  }
  const count = async (status: string) => {
    const [counted] = await op.tx.aggregate('consumerBacklog', op.tenantId, {
      filter: { op: 'and', filters: [{ op: 'eq', field: 'consumer', value: name }, { op: 'eq', field: 'status', value: status }] },
      metrics: { n: { fn: 'count' } },
    });
    return Number(counted?.values.n ?? 0);
  };
  // An event waiting for a retry (or queued behind one of their record) is unhandled too: a record stuck
  // on a failing event must show in `lagMs` even when the checkpoint is at the head. A replayed event
  // waits since its replay (an old event replayed now is not days of lag).
  const { rows: waiting } = await op.query<BacklogRow>('consumerBacklog', {
    filter: { op: 'and', filters: [{ op: 'eq', field: 'consumer', value: name }, { op: 'eq', field: 'status', value: 'pending' }] },
    sort: [{ field: 'position' }],
    limit: 100,
  });
  for (const entry of waiting) {
    const since = entry.replayedAt ?? entry.event.at;
    if (oldest === undefined || since < oldest) oldest = since;
  }
  const first = rows[0]!;
  const lastError = rows.map((r) => r.lastError).filter((e): e is ConsumerError => !!e).sort((a, b) => (a.at < b.at ? 1 : -1))[0];
  return {
    name,
    group: first.group,
    ...(first.types ? { types: first.types } : {}),
    paused: first.paused,
    head,
    position: Math.min(...rows.map((r: ConsumerRow) => r.position)),
    lag: partitions.reduce((sum, p) => sum + p.lag, 0),
    lagMs: oldest === undefined ? 0 : Math.max(0, op.nowMs - Date.parse(oldest)),
    pending: await count('pending'),
    parked: await count('parked'),
    handled: rows.reduce((sum, r) => sum + r.handled, 0),
    failures: rows.reduce((sum, r) => sum + r.failures, 0),
    expired: rows.reduce((sum, r) => sum + (r.expired ?? 0), 0),
    ...(lastError ? { lastError } : {}),
    partitions,
  };
}
