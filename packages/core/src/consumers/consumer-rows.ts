import { CrmError, isCrmError } from '../errors/crm-error.js';
import { without } from '../domain/records.js';
import type { CrmEvent } from '../events/event-map.js';
import type { RecordBase } from '../schema/record.js';
import type { Row } from '../storage/storage-adapter.js';
import type { CrmContext } from '../crm/context.js';
import { runWrite, type Operation } from '../crm/operation.js';
import { feedHead } from './feed-read.js';
import type { ResolvedConsumer } from './consumer-options.js';

/** One partition of a consumer: its checkpoint and its lease. Entity `consumer`. */
export interface ConsumerRow extends RecordBase {
  readonly name: string;
  /** Consumers run together by one runner: `app` (`crm.events.consume`), `webhooks`, `scheduler`. */
  readonly group: string;
  readonly partition: number;
  readonly partitions: number;
  /** The checkpoint: every event of this partition up to here was handled, queued or parked. */
  readonly position: number;
  readonly types?: readonly string[];
  /** A paused consumer is not claimed (a disabled webhook endpoint). */
  readonly paused: boolean;
  readonly leaseOwner?: string;
  readonly leaseUntil?: string;
  readonly leaseToken?: string;
  readonly lastRunAt?: string;
  /** Claim order: each claim gives the partition the next number, and claims take the lowest free one. */
  readonly turn: number;
  /** Events acknowledged, failed attempts and parked events over the consumer's life. */
  readonly handled: number;
  readonly failures: number;
  readonly parkedTotal: number;
  readonly lastError?: ConsumerError;
}

/** A handler failure as recorded. */
export interface ConsumerError {
  readonly message: string;
  readonly at: string;
  readonly eventId?: string;
}

/** An event a consumer could not handle yet (`pending`) or gave up on (`parked`). Entity `consumerBacklog`. */
export interface BacklogRow extends RecordBase {
  readonly consumer: string;
  readonly partition: number;
  readonly subjectId: string;
  readonly eventId: string;
  readonly position: number;
  readonly status: 'pending' | 'parked';
  /** Attempts made so far (0: queued behind an earlier event of the record, not tried yet). */
  readonly attempts: number;
  /** When it may be tried again (once it is the first pending event of its record). */
  readonly nextAttemptAt: string;
  readonly lastError?: ConsumerError;
  readonly parkedAt?: string;
  /** A copy of the event, so a dead letter outlives feed pruning. */
  readonly event: CrmEvent;
  /** Put in line on purpose (`replay`): handlers learn it through `context.replayed`. */
  readonly replay?: boolean;
}

export const partitionId = (name: string, partition: number) => `${name}#${partition}`;
export const backlogId = (name: string, eventId: string) => `${name}#${eventId}`;

/** The shards (0–255) of partition `p` of `partitions`. */
export function shardsOf(partition: number, partitions: number): number[] | undefined {
  if (partitions === 1) return undefined;
  const out: number[] = [];
  for (let s = partition; s < 256; s += partitions) out.push(s);
  return out;
}

/** A short error message for the log (handlers throw anything). */
export function describeFailure(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}

/**
 * Creates the consumer's partition rows if they are missing; refuses a partition count that differs
 * from the stored one (checkpoints are per partition).
 *
 * @throws CrmError `VALIDATION` when the consumer exists with another partition count or group.
 */
export async function ensureConsumer(ctx: CrmContext, config: ResolvedConsumer, extra: Partial<Pick<ConsumerRow, 'paused'>> = {}): Promise<ConsumerRow[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runWrite(ctx, async (op) => {
        const ids = Array.from({ length: config.partitions }, (_, p) => partitionId(config.name, p));
        const stored = await op.getMany<ConsumerRow>('consumer', ids);
        const any = stored.find(Boolean) ?? (await anyPartition(op, config.name));
        if (any && (any.partitions !== config.partitions || any.group !== config.group)) {
          const what = any.group !== config.group ? `belongs to ${any.group}` : `has ${any.partitions} partitions`;
          throw new CrmError('VALIDATION', `Consumer "${config.name}" ${what}; remove it to start over with other settings`, {
            issues: [{ path: any.group !== config.group ? ['name'] : ['partitions'], code: 'invalid_value', message: `consumer "${config.name}" ${what}` }],
          });
        }
        const start = config.from === 'beginning' ? 0 : config.from === 'now' ? await feedHead(op) : config.from;
        const rows: ConsumerRow[] = [];
        for (let p = 0; p < config.partitions; p++) {
          const existing = stored[p];
          const sameTypes = JSON.stringify(config.types ?? null) === JSON.stringify(existing?.types ?? null);
          const next: ConsumerRow = existing
            ? sameTypes ? existing : { ...existing, ...(config.types ? { types: config.types } : {}), version: existing.version + 1, updatedAt: op.now }
            : {
                id: ids[p]!, tenantId: op.tenantId, version: 1, createdAt: op.now, updatedAt: op.now,
                name: config.name, group: config.group, partition: p, partitions: config.partitions, position: start,
                ...(config.types ? { types: config.types } : {}), paused: extra.paused ?? false, turn: 0, handled: 0, failures: 0, parkedTotal: 0,
              };
          if (!existing) await op.insert('consumer', next);
          else if (next !== existing) await op.update('consumer', existing, config.types ? next : (without(next, 'types') as ConsumerRow));
          rows.push(next);
        }
        return rows;
      });
    } catch (error) {
      // Another process created the rows at the same moment: read them again.
      if (attempt < 5 && isCrmError(error, 'CONFLICT')) continue;
      throw error;
    }
  }
}

/** New partition rows of a consumer starting at `start` (for callers that create them in their own transaction). */
export function newPartitionRows(op: Operation, config: ResolvedConsumer, start: number, paused: boolean): ConsumerRow[] {
  return Array.from({ length: config.partitions }, (_, p) => ({
    id: partitionId(config.name, p), tenantId: op.tenantId, version: 1, createdAt: op.now, updatedAt: op.now,
    name: config.name, group: config.group, partition: p, partitions: config.partitions, position: start,
    ...(config.types ? { types: config.types } : {}), paused, turn: 0, handled: 0, failures: 0, parkedTotal: 0,
  }));
}

/** Sets `paused` and `types` on every partition of a consumer (inside the caller's transaction). */
export async function reconfigurePartitions(op: Operation, name: string, change: { readonly paused?: boolean; readonly types?: readonly string[] | null }): Promise<void> {
  for (const row of await consumerPartitions(op, name)) {
    const rest = without(row, 'types');
    const types = change.types === undefined ? row.types : change.types ?? undefined;
    await op.update('consumer', row, { ...rest, ...(types ? { types } : {}), paused: change.paused ?? row.paused, version: row.version + 1, updatedAt: op.now } as ConsumerRow);
  }
}

async function anyPartition(op: Operation, name: string): Promise<ConsumerRow | undefined> {
  const { rows } = await op.query<ConsumerRow>('consumer', { filter: { op: 'eq', field: 'name', value: name }, limit: 1 });
  return rows[0];
}

/** Every partition row of a consumer, by partition. */
export async function consumerPartitions(op: Operation, name: string): Promise<ConsumerRow[]> {
  const { rows } = await op.query<ConsumerRow>('consumer', { filter: { op: 'eq', field: 'name', value: name }, sort: [{ field: 'partition' }] });
  return rows;
}

/** A row as the storage takes it. */
export const asRow = (record: RecordBase): Row => record as unknown as Row;
