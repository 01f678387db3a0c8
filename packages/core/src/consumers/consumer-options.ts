import * as z from 'zod/mini';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import { eventTypesSchema, positionSchema } from './feed-read.js';

/** Consumer names: 1–100 letters, digits and `_ . : -`, the first a letter or a digit. */
export const consumerNameSchema = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'must be 1-100 letters, digits or _.:-'));

/**
 * Name prefixes of crmkit's own consumers: the scheduler's `crmkit.scheduler.notices` and one
 * `webhook:<endpoint id>` per webhook endpoint. `crm.events.consume`, `remove`, `replay` and `discard`
 * refuse them (compared without case), so an app's consumer can neither take over nor break them.
 */
export const RESERVED_CONSUMER_PREFIXES = ['crmkit.', 'webhook:', 'automation:'] as const;

/** Whether a consumer name is in a namespace crmkit reserves for its own consumers. */
export function isReservedConsumerName(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_CONSUMER_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/** Retry delays: `initialMs × multiplier^(attempt-1)`, at most `maxMs`, with jitter (half to all of it). */
export interface BackoffOptions {
  /** Delay before the second attempt, ms (default 1000). */
  readonly initialMs?: number;
  /** Growth per attempt (default 2). */
  readonly multiplier?: number;
  /** Longest delay, ms (default 1 hour). */
  readonly maxMs?: number;
}

/** Options of `crm.events.consume`. Unknown options are refused with `VALIDATION`. */
export interface ConsumerOptions {
  /** Only events of these types reach the handler (default: every event). */
  readonly types?: readonly (CrmEventName | string)[];
  /**
   * Partitions of the feed (a power of two from 1 to 256, default 8). Events of one record (subject)
   * always fall in the same partition and one worker at a time holds a partition, so a record's events
   * are handled in commit order while several processes share the partitions. Fixed when the consumer
   * is first started.
   */
  readonly partitions?: number;
  /** Where a new consumer starts: `'beginning'` (default), `'now'` (only events after its creation) or a position. */
  readonly from?: 'beginning' | 'now' | number;
  /**
   * How long events wait for this consumer before `crm.events.prune` may delete them unhandled, ms
   * (default: forever — prune never passes the checkpoint; 1 to 3 153 600 000 000, i.e. 36 500 days
   * like the scheduler's `noticeRetentionDays`, else `VALIDATION`). Older events are skipped and
   * counted in `status().expired`: for a consumer no process may run for a long time.
   */
  readonly holdMs?: number;
  /** Events per pass over a partition (default 100). */
  readonly batchSize?: number;
  /** How long a worker holds a partition before others may take it over (default 30 s). */
  readonly leaseMs?: number;
  /** A handler call that takes longer fails (and is retried); its `signal` is aborted (default 10 s or a third of `leaseMs`; at most `leaseMs` − 50 ms, the room to renew the lease and commit). */
  readonly handlerTimeoutMs?: number;
  /** Attempts per event before it is parked as a dead letter (default 10). */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
  /** Longest sleep between looks at the feed when nothing woke the worker (default 1000 ms). */
  readonly pollMs?: number;
  /** Partitions this process works on at the same time (default 1). */
  readonly concurrency?: number;
  /** Name of this worker in leases and status (default: random). */
  readonly workerId?: string;
  /** `false`: do not start in the background; call `drain()` (jobs, tests). Default true. */
  readonly start?: boolean;
  /** Called after each pass that committed (progress reporting, metrics); not awaited — a throw or an async callback's rejection is logged. */
  readonly onPass?: (report: PassReport) => void;
}

/** What a handler gets besides the event. */
export interface HandlerContext {
  /** 1 on the first try, then 2, 3… */
  readonly attempt: number;
  /** Aborted when the handler times out or the consumer stops: stop work then. */
  readonly signal: AbortSignal;
  readonly consumer: string;
  readonly partition: number;
  /** The lease this call runs under; a pass's work is acknowledged only if its lease still holds at commit. */
  readonly lease: string;
  /** The event was put back in line on purpose (a replay), though it may have been handled before. */
  readonly replayed: boolean;
}

/**
 * Thrown by a handler that cannot work now for a reason that is not the event's fault (its target is
 * paused): the pass stops there without counting an attempt; the event stays where it was.
 */
export class DeferEvent extends Error {
  override readonly name = 'DeferEvent';
}

/** A consumer's handler: resolve to acknowledge, throw (or reject) to have the event retried. */
export type EventHandler = (event: CrmEvent, context: HandlerContext) => unknown;

/** What one pass over a partition did; given to `onPass` after its commit. */
export interface PassReport {
  readonly consumer: string;
  readonly partition: number;
  readonly lease: string;
  /** Checkpoint before and after the pass. */
  readonly from: number;
  readonly to: number;
  /** Ids of events acknowledged by this pass (handled successfully now). */
  readonly handled: readonly string[];
  /** Ids of events that failed and were scheduled for a retry. */
  readonly failed: readonly string[];
  /** Ids of events parked (dead letters) by this pass. */
  readonly parked: readonly string[];
  /** Ids of events queued behind an earlier failing event of the same record. */
  readonly queued: readonly string[];
}

const positiveInt = (max: number) => z.number().check(z.int(), z.gte(1), z.lte(max));

/**
 * The longest `holdMs`: 36 500 days (100 years), the scheduler's longest notice retention. A hold is
 * subtracted from the time of each prune, and a longer one would leave the range of `Date`.
 */
export const MAX_HOLD_MS = 36_500 * 86_400_000;

/** Backoff options, checked with the defaults that fill in what is not given (a lone `maxMs` below the default `initialMs` is refused too). */
export const backoffSchema = (defaults: { readonly initialMs: number; readonly maxMs: number }) =>
  z
    .strictObject({
      initialMs: z.optional(positiveInt(86_400_000)),
      multiplier: z.optional(z.number().check(z.gte(1), z.lte(100))),
      maxMs: z.optional(positiveInt(7 * 86_400_000)),
    })
    .check(
      z.refine((b) => b.maxMs === undefined || (b.initialMs ?? defaults.initialMs) <= b.maxMs, {
        message: `must be at least initialMs (default ${defaults.initialMs}): the first delay cannot exceed the cap`,
        path: ['maxMs'],
      }),
      z.refine((b) => b.maxMs !== undefined || (b.initialMs ?? 0) <= defaults.maxMs, {
        message: `must be at most maxMs (default ${defaults.maxMs}): the first delay cannot exceed the cap`,
        path: ['initialMs'],
      }),
    );

/** Backoff defaults of `crm.events.consume`. */
const CONSUMER_BACKOFF = { initialMs: 1000, multiplier: 2, maxMs: 3_600_000 } as const;

/**
 * The least part of a lease a handler timeout must leave free: after renewing its lease (one round
 * trip) a pass only calls a handler the lease still covers, so a gap shorter than a round trip would
 * never let it call one.
 */
export const LEASE_RESERVE_MS = 50;

export const consumerOptionsSchema = z
  .strictObject({
    types: z.optional(eventTypesSchema),
    partitions: z.optional(positiveInt(256).check(z.refine((n) => (n & (n - 1)) === 0, 'must be a power of two (1, 2, 4 … 256)'))),
    from: z.optional(z.union([z.literal('beginning'), z.literal('now'), positionSchema])),
    holdMs: z.optional(positiveInt(MAX_HOLD_MS)),
    batchSize: z.optional(positiveInt(1000)),
    leaseMs: z.optional(z.number().check(z.int(), z.gte(100), z.lte(3_600_000))),
    handlerTimeoutMs: z.optional(z.number().check(z.int(), z.gte(1), z.lte(3_600_000))),
    maxAttempts: z.optional(positiveInt(100)),
    backoff: z.optional(backoffSchema(CONSUMER_BACKOFF)),
    pollMs: z.optional(z.number().check(z.int(), z.gte(1), z.lte(3_600_000))),
    concurrency: z.optional(positiveInt(64)),
    workerId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._@:+-]{1,100}$/, 'must be 1-100 letters, digits or ._@:+-'))),
    start: z.optional(z.boolean()),
    onPass: z.optional(z.custom<(report: PassReport) => void>((v) => typeof v === 'function', 'must be a function')),
  })
  .check(
    z.refine((o) => o.handlerTimeoutMs === undefined || o.handlerTimeoutMs <= (o.leaseMs ?? 30_000) - LEASE_RESERVE_MS, {
      message: `must be at least ${LEASE_RESERVE_MS} ms shorter than leaseMs`,
      path: ['handlerTimeoutMs'],
    }),
  );

/** Options with defaults applied. */
export interface ResolvedConsumer {
  readonly name: string;
  readonly group: string;
  readonly types: readonly string[] | undefined;
  readonly partitions: number;
  readonly from: 'beginning' | 'now' | number;
  readonly holdMs?: number | undefined;
  readonly batchSize: number;
  readonly leaseMs: number;
  readonly handlerTimeoutMs: number;
  readonly maxAttempts: number;
  readonly backoff: Required<BackoffOptions>;
  readonly pollMs: number;
  readonly concurrency: number;
  readonly workerId: string | undefined;
}

/** Applies defaults to validated options. */
export function resolveConsumer(name: string, group: string, options: z.output<typeof consumerOptionsSchema>): ResolvedConsumer {
  return {
    name,
    group,
    types: options.types,
    partitions: options.partitions ?? 8,
    from: options.from ?? 'beginning',
    holdMs: options.holdMs,
    batchSize: options.batchSize ?? 100,
    leaseMs: options.leaseMs ?? 30_000,
    handlerTimeoutMs: options.handlerTimeoutMs ?? Math.min(10_000, Math.floor((options.leaseMs ?? 30_000) / 3)),
    maxAttempts: options.maxAttempts ?? 10,
    backoff: { initialMs: options.backoff?.initialMs ?? CONSUMER_BACKOFF.initialMs, multiplier: options.backoff?.multiplier ?? CONSUMER_BACKOFF.multiplier, maxMs: options.backoff?.maxMs ?? CONSUMER_BACKOFF.maxMs },
    pollMs: options.pollMs ?? 1000,
    concurrency: options.concurrency ?? 1,
    workerId: options.workerId,
  };
}

/** The delay before attempt `attempt + 1`, with equal jitter drawn from `random` (0 ≤ random < 1). */
export function backoffDelay(backoff: Required<BackoffOptions>, attempt: number, random: number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (base / 2) * random);
}
