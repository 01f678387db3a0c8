import { CrmError } from '../errors/crm-error.js';
import { without } from '../domain/records.js';
import type { CrmEvent } from '../events/event-map.js';
import type { Filter } from '../query/query-spec.js';
import type { RecordBase } from '../schema/record.js';
import type { Row } from '../storage/storage-adapter.js';
import type { CrmContext } from '../crm/context.js';
import { runWrite, type Operation } from '../crm/operation.js';
import { feedHead, prunedThrough } from './feed-read.js';
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
  /** When the last committed pass began (its claim). */
  readonly lastRunAt?: string;
  /** Claim order: each claim gives the partition the next number, and claims take the lowest free one. */
  readonly turn: number;
  /** Events acknowledged, failed attempts and parked events over the consumer's life. */
  readonly handled: number;
  readonly failures: number;
  readonly parkedTotal: number;
  /** Events skipped unhandled because they outlived `holdMs` (see `crm.events.prune`). */
  readonly expired?: number;
  /** Events older than this (ms) are not held for the consumer: prune skips its checkpoint past them. */
  readonly holdMs?: number;
  readonly lastError?: ConsumerError;
  /**
   * The definition the row belongs to, set when the consumer is created: a runner started for an
   * earlier definition (removed and defined anew since, maybe by another process) must not run it.
   */
  readonly generation?: string;
}

/** A handler failure as recorded. */
export interface ConsumerError {
  readonly message: string;
  readonly at: string;
  readonly eventId?: string;
}

/**
 * An event a consumer could not handle yet (`pending`) or gave up on (`parked`), or a parked one discarded
 * above the checkpoint (`discarded`: skipped, dropped once the checkpoint passes it). Entity `consumerBacklog`.
 */
export interface BacklogRow extends RecordBase {
  readonly consumer: string;
  readonly partition: number;
  readonly subjectId: string;
  readonly eventId: string;
  readonly position: number;
  readonly status: 'pending' | 'parked' | 'discarded';
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
  /** When a replay put it in line (a parked or delivered event): its lag counts from then, not from the event's time. */
  readonly replayedAt?: string;
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

/** Filters of the events after a partition's checkpoint that the consumer receives. */
export function afterCheckpoint(row: ConsumerRow): Filter[] {
  const filters: Filter[] = [{ op: 'gt', field: 'position', value: row.position }];
  const shards = shardsOf(row.partition, row.partitions);
  if (shards) filters.push({ op: 'in', field: 'shard', values: shards });
  if (row.types) filters.push({ op: 'in', field: 'type', values: row.types });
  return filters;
}

/**
 * How far a partition's consumer is done with the feed (read-only): right below its first event after
 * the checkpoint that it receives (its types, its shards), else `head`; at least the checkpoint. Backlog
 * entries ahead of the checkpoint (a replayed hand-over notice, a discarded marker) are such events too.
 * A consumer with `types` moves its checkpoint only in a pass, and an idle one finds no work to run one
 * for: the events in between are none of its business, so `prune` goes up to here. It never goes down
 * for one definition (checkpoint and head only go up); a type change moves the checkpoint here first.
 */
export async function partitionReach(op: Operation, row: ConsumerRow, head: number): Promise<number> {
  const { rows: [next] } = await op.query<CrmEvent>('event', { filter: { op: 'and', filters: afterCheckpoint(row) }, sort: [{ field: 'position' }], limit: 1 });
  return Math.max(row.position, next ? next.position! - 1 : head);
}

/** A type filter as a comparable key: order and repeats do not change what a consumer receives. */
export function typesKey(types: readonly string[] | undefined): string {
  return types ? [...new Set(types)].sort().join(',') : '*';
}

const refuse = (name: string, field: string, what: string, hint: string) =>
  new CrmError('VALIDATION', `Consumer "${name}" ${what}; ${hint}`, { issues: [{ path: [field], code: 'invalid_value', message: `consumer "${name}" ${what}` }] });

/** What `ensureConsumer` may do beyond creating missing rows. */
export interface EnsureOptions {
  readonly paused?: boolean;
  /**
   * Take the given type filter even when the stored one differs (crmkit's own consumers, whose filter
   * is defined by the code that runs them). Otherwise a different filter is refused: the partitions'
   * checkpoints were moved past events of the old filter's types only, so a new filter would silently
   * miss or re-read events.
   */
  readonly retype?: boolean;
}

/**
 * Creates the consumer's partition rows if they are missing; refuses settings that differ from the
 * stored consumer's (its checkpoints are per partition and were moved for its type filter), and a
 * start position beyond the feed head.
 *
 * @throws CrmError `VALIDATION` when the consumer exists with another partition count, group or type
 *   filter (path `partitions`, `name` or `types`), or `from` is a position beyond the head or, for a new
 *   consumer, below the pruned part of the feed (path `from`).
 */
export async function ensureConsumer(ctx: CrmContext, config: ResolvedConsumer, extra: EnsureOptions = {}): Promise<ConsumerRow[]> {
  // Another process creating the rows at the same moment: the insert finds them taken and `runWrite`
  // runs this again, reading them.
  return runWrite(ctx, async (op) => {
    const ids = Array.from({ length: config.partitions }, (_, p) => partitionId(config.name, p));
    const stored = await op.getMany<ConsumerRow>('consumer', ids);
    const any = stored.find(Boolean) ?? (await anyPartition(op, config.name));
    const hint = 'remove it (crm.events.remove) or use a new name to start over with other settings';
    if (any && any.group !== config.group) throw refuse(config.name, 'name', `belongs to ${any.group}`, hint);
    // crmkit's own consumers cannot be removed or renamed: the count they were first created with stays.
    if (any && any.partitions !== config.partitions) throw refuse(config.name, 'partitions', `has ${any.partitions} partitions`, config.name.startsWith('crmkit.') ? `crmkit's own consumers keep the count they were first created with: set the feature's partitions option to ${any.partitions}` : hint);
    const retype = any !== undefined && typesKey(any.types) !== typesKey(config.types);
    if (retype && !extra.retype) {
      const what = any.types ? `receives only the types ${any.types.join(', ')}` : 'receives every type';
      throw refuse(config.name, 'types', what, hint);
    }
    const head = await feedHead(op);
    if (typeof config.from === 'number' && config.from > head) {
      throw new CrmError('VALIDATION', `from (${config.from}) is beyond the feed head (${head}): a consumer cannot start after events that do not exist yet`, {
        issues: [{ path: ['from'], code: 'too_big', message: `must be at most the feed head (${head})` }],
      });
    }
    // A new consumer cannot start inside the pruned part of the feed: it would skip those events silently.
    const pruned = !any && typeof config.from === 'number' && config.from > 0 ? await prunedThrough(op) : 0;
    if (typeof config.from === 'number' && config.from < pruned) {
      throw new CrmError('VALIDATION', `from (${config.from}) is below prunedThrough (${pruned})`, {
        issues: [{ path: ['from'], code: 'too_small', message: `must be at least ${pruned} (pruned events are gone)` }],
      });
    }
    const start = config.from === 'beginning' ? 0 : config.from === 'now' ? head : config.from;
    // A storage sequence, not an id: ids come from the seeded random source, which tests replay.
    const generation = any ? any.generation : String(await op.tx.nextSequence('consumerGeneration', op.tenantId, 1));
    const rows: ConsumerRow[] = [];
    for (let p = 0; p < config.partitions; p++) {
      const existing = stored[p];
      // A new type filter starts where the old one's reach is: prune may have gone that far (see partitionReach).
      let next: ConsumerRow = existing
        ? retype
          ? { ...(without(existing, 'types') as ConsumerRow), ...(config.types ? { types: config.types } : {}), position: await partitionReach(op, existing, head), version: existing.version + 1, updatedAt: op.now }
          : existing
        : {
            id: ids[p]!, tenantId: op.tenantId, version: 1, createdAt: op.now, updatedAt: op.now,
            name: config.name, group: config.group, partition: p, partitions: config.partitions, position: start,
            ...(config.types ? { types: config.types } : {}), paused: extra.paused ?? false, turn: 0, handled: 0, failures: 0, parkedTotal: 0,
            ...(generation ? { generation } : {}), ...(config.holdMs ? { holdMs: config.holdMs } : {}),
          };
      // The hold is no checkpoint matter: a changed one is taken.
      if (existing && next.holdMs !== config.holdMs) next = { ...(without(next, 'holdMs') as ConsumerRow), ...(config.holdMs ? { holdMs: config.holdMs } : {}), version: existing.version + 1, updatedAt: op.now };
      if (!existing) await op.insert('consumer', next);
      else if (next !== existing) await op.update('consumer', existing, next);
      rows.push(next);
    }
    return rows;
  });
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
    const retyped = String(types) !== String(row.types);
    // Rows already configured so are left alone: every write races the partition's lease renewals and pass commits.
    if ((change.paused ?? row.paused) === row.paused && !retyped) continue;
    // New types start where the old ones' reach is: prune may have gone that far (see partitionReach).
    const position = retyped ? await partitionReach(op, row, await feedHead(op)) : row.position;
    await op.update('consumer', row, { ...rest, ...(types ? { types } : {}), paused: change.paused ?? row.paused, position, version: row.version + 1, updatedAt: op.now } as ConsumerRow);
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
