import * as z from 'zod/mini';
import { notFound, validationError } from '../errors/crm-error.js';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import { LIMITS, timestampInputSchema } from '../schema/primitives.js';
import type { CrmContext } from '../crm/context.js';
import type { Page } from '../crm/list-options.js';
import { runRead } from '../crm/operation.js';
import { parseArgument, parseInput } from '../crm/parse-input.js';
import { discardParked, listBacklog, pruneFeed, removeConsumer, replayParked, type PruneReport } from '../consumers/backlog.js';
import { consumerNameSchema, consumerOptionsSchema, isReservedConsumerName, RESERVED_CONSUMER_PREFIXES, resolveConsumer, type ConsumerOptions, type EventHandler } from '../consumers/consumer-options.js';
import { consumerPartitions, ensureConsumer, type BacklogRow, type ConsumerError } from '../consumers/consumer-rows.js';
import { ConsumerRunner, type DrainReport } from '../consumers/consumer-runner.js';
import { readConsumerStatus, type ConsumerStatus } from '../consumers/consumer-status.js';
import { eventTypesSchema, feedHead, positionSchema, readFeedPage, type FeedPage } from '../consumers/feed-read.js';
import { CrmError } from '../errors/crm-error.js';
import { isViewConsumerName, readVisibleFeed, VIEW_CONSUMER_PREFIX, viewConsumerName } from './view-feed.js';

/** Options of `crm.events.read`. */
export interface ReadFeedOptions {
  /** The checkpoint: events with a larger position (default 0, the beginning). */
  readonly after?: number;
  /** Page size, 1–1000 (default 100). */
  readonly limit?: number;
  /** Only these event types. */
  readonly types?: readonly (CrmEventName | string)[];
}

/** A running consumer of the feed, returned by `crm.events.consume`. */
export interface Consumer {
  readonly name: string;
  /** True while it works in the background. */
  readonly running: boolean;
  /**
   * Handles everything available now (in this process), then resolves: for jobs, scripts and tests.
   * @throws CrmError (rejects) `CLOSED` after `crm.close()`; `CONFLICT` when the consumer was redefined.
   */
  drain(): Promise<DrainReport>;
  /** Stops the background work; a handler in flight sees its signal aborted. */
  stop(): Promise<void>;
  /** Progress and lag. */
  status(): Promise<ConsumerStatus>;
}

/** A parked event (dead letter) of a consumer. */
export interface ParkedEvent {
  readonly event: CrmEvent;
  readonly attempts: number;
  readonly lastError?: ConsumerError;
  readonly parkedAt: string;
}

/**
 * The change feed of a tenant and its durable consumers: `crm.events` (the `events()` feature).
 * Every event recorded by any process gets a position in commit order; readers and consumers
 * continue from a checkpoint.
 */
export interface EventsApi {
  /**
   * Reads a page of the feed after a checkpoint, in commit order.
   *
   * @param options `after` (checkpoint, default 0), `limit` (1–1000, default 100), `types`.
   * @returns The events (deeply frozen, as every handler gets them), the checkpoint to continue from (`position`), the head, `hasMore`, `prunedThrough`.
   * @throws CrmError `VALIDATION` for unknown options, a negative or fractional `after`, a bad limit or type.
   * @example
   * let checkpoint = 0;
   * const page = await crm.events.read({ after: checkpoint, limit: 500 });
   * for (const event of page.events) handle(event);
   * checkpoint = page.position;
   */
  read(options?: ReadFeedOptions): Promise<FeedPage>;
  /** The newest position of the feed (0 when empty). */
  head(): Promise<number>;
  /**
   * Starts (or joins) a durable consumer: its checkpoints live in the database, so it resumes where it
   * stopped, and every process that runs the same name shares its partitions (one holder each, under
   * a lease). Delivery is at least once: a handler must be idempotent, keyed by `event.id`. A handler
   * that throws or times out is retried with exponential backoff and jitter; after `maxAttempts` the
   * event is parked (see `parked`). Later events of the same record wait behind a retried one; other
   * records never do.
   *
   * @param name 1–100 letters, digits and `_ . : -`; the same name in several processes is one consumer.
   * @param handler Called once per event (more after a crash or a retry); resolve to acknowledge.
   * @param options Types, partitions, batch size, lease, timeouts, attempts, backoff… (see `ConsumerOptions`).
   * @returns The consumer, already running unless `start: false`.
   * @throws CrmError `VALIDATION` for a bad name or one reserved for crmkit's consumers (`crmkit.…`,
   *   `webhook:…`), unknown or invalid options (or options that are not an object), a handler that is
   *   not a function, a `from` position beyond the head, or a partition count or type filter that
   *   differs from the stored consumer's (remove it or use a new name to change them).
   * @example
   * const mailer = await crm.events.consume('mailer', async (event) => {
   *   if (event.type === 'deal.won') await sendThanks(event.data, { idempotencyKey: event.id });
   * }, { types: ['deal.won'] });
   * await mailer.stop();
   */
  consume(name: string, handler: EventHandler, options?: ConsumerOptions): Promise<Consumer>;
  /**
   * Progress of a consumer: checkpoints, lag (events and ms), leases, pending retries, parked events.
   *
   * @throws CrmError `NOT_FOUND` when no consumer has this name.
   */
  status(name: string): Promise<ConsumerStatus>;
  /** Every consumer of the tenant (also webhook endpoints' and the scheduler's), with its status. */
  consumers(): Promise<ConsumerStatus[]>;
  /**
   * The parked events (dead letters) of a consumer, oldest first.
   *
   * @throws CrmError `NOT_FOUND` when no consumer has this name; `VALIDATION` for bad options.
   */
  parked(name: string, options?: { readonly limit?: number; readonly cursor?: string }): Promise<Page<ParkedEvent>>;
  /**
   * Puts parked events back in line (attempts reset, due now) — of any consumer, crmkit's own too
   * (`crmkit.scheduler.notices:<type>`, `webhook:<endpoint id>`, `crmkit.automations`). Runners started
   * with `start()` (and `scheduler.start()`) wake at once: in this process, and in others whose storage
   * reports this commit (`capabilities.externalChanges`; not PostgreSQL's `'poll'` mode) — else at their next look.
   *
   * @throws CrmError `NOT_FOUND` when an id is not a parked event of this consumer; `VALIDATION` for a
   *   bad name or ids, or (code `type_not_subscribed`) an event of a type the consumer no longer
   *   takes (a webhook endpoint whose `types` changed; as `crm.webhooks.replay`). An id given twice counts once.
   */
  replay(name: string, eventIds: readonly string[]): Promise<number>;
  /** Deletes parked events for good. @throws CrmError `NOT_FOUND` as `replay`. */
  discard(name: string, eventIds: readonly string[]): Promise<number>;
  /** Removes a consumer with its checkpoints and backlog; returns whether it existed. @throws CrmError `VALIDATION` for a reserved name. */
  remove(name: string): Promise<boolean>;
  /**
   * Deletes events every consumer is done with (positions up to the slowest checkpoint; a consumer
   * with no unhandled event of its `types` holds nothing back), for retention.
   * Deleted events leave the timeline too: prune by `types` (high-volume notices) or `before` a date.
   *
   * Without any consumer, `through` is required. `prunedThrough` only moves up to the first event kept,
   * and `head()` never goes back.
   *
   * @throws CrmError `VALIDATION` for unknown options, or no `through` while the tenant has no consumer.
   */
  prune(options?: { readonly through?: number; readonly types?: readonly string[]; readonly before?: string }): Promise<PruneReport>;
}

const readOptionsSchema = z.strictObject({
  after: z.optional(positionSchema),
  limit: z.optional(z.number().check(z.int(), z.gte(1), z.lte(LIMITS.listLimit))),
  types: z.optional(eventTypesSchema),
});

const pageOptionsSchema = z.strictObject({
  limit: z.optional(z.number().check(z.int(), z.gte(1), z.lte(LIMITS.listLimit))),
  cursor: z.optional(z.string().check(z.maxLength(4096))),
});

const idsSchema = z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.minLength(1), z.maxLength(LIMITS.ids));

const pruneSchema = z.strictObject({
  through: z.optional(positionSchema),
  types: z.optional(eventTypesSchema),
  before: z.optional(timestampInputSchema),
});

/** Options must be a plain object: an array (or other value) would otherwise pass as "no options". */
function assertOptionsObject(options: unknown, context: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw validationError(context, [{ path: ['options'], code: 'invalid_type', message: 'must be an object' }]);
  }
}

/** Consumers started through one crm: stopped by `crm.close()`. */
export type ConsumerRegistry = Set<ConsumerRunner>;

/**
 * Builds `crm.events` for a context. In a view (`crm.as(principal)`), the feed acts for the principal:
 * `read` and consumers hand out only events about records it may read, field-projected; its consumers
 * are its own (stored as `view:<user>:<name>`), and `prune` (which deletes for everyone) is refused.
 */
export function createEventsApi(ctx: CrmContext, registry: ConsumerRegistry): EventsApi {
  const principal = ctx.principal;
  const access = ctx.hooks.access;
  const name = (value: unknown, context: string) => {
    const checked = parseArgument(consumerNameSchema, value, context, 'name');
    return principal ? viewConsumerName(principal.userId, checked) : checked;
  };
  /** A name the caller may start or change: not one of crmkit's own consumers. */
  const ownName = (value: unknown, context: string) => {
    const checked = parseArgument(consumerNameSchema, value, context, 'name');
    if (isReservedConsumerName(checked)) {
      throw validationError(context, [{ path: ['name'], code: 'invalid_value', message: `names starting with ${RESERVED_CONSUMER_PREFIXES.map((p) => `"${p}"`).join(' or ')} belong to crmkit's own consumers` }]);
    }
    return principal ? viewConsumerName(principal.userId, checked) : checked;
  };
  /** The name as the caller knows it (a view's consumers without their `view:<user>:` prefix). */
  const shown = (stored: string) => (principal ? stored.slice(viewConsumerName(principal.userId, '').length) : stored);
  const shownStatus = (found: ConsumerStatus): ConsumerStatus => (principal ? { ...found, name: shown(found.name) } : found);
  /** Distinct ids, in the caller's order (one id twice is one event). */
  const ids = (value: unknown, context: string) => [...new Set(parseArgument(idsSchema, value, context, 'eventIds'))];
  const status = async (consumer: string): Promise<ConsumerStatus> => {
    const found = await runRead(ctx, (op) => readConsumerStatus(op, consumer));
    if (!found) throw notFound('consumer', shown(consumer));
    return shownStatus(found);
  };
  /** Events as the view's principal may see them (hidden ones dropped); every event on the crm itself. */
  const visible = async (events: readonly CrmEvent[]): Promise<CrmEvent[]> => {
    if (!principal || !access || events.length === 0) return [...events];
    return access.visibleEvents(ctx.storage, principal, events, undefined);
  };
  return {
    async read(options = {}) {
      assertOptionsObject(options, 'events.read');
      const parsed = parseInput(readOptionsSchema, options, 'events.read');
      const selection = parsed.types ? { types: parsed.types } : {};
      return runRead(ctx, (op) =>
        op.guard && access ? readVisibleFeed(op, op.guard, access, parsed.after ?? 0, parsed.limit ?? 100, selection) : readFeedPage(op, parsed.after ?? 0, parsed.limit ?? 100, selection),
      );
    },

    head: () => runRead(ctx, (op) => feedHead(op)),

    async consume(consumerName, handler, options = {}) {
      const checked = ownName(consumerName, 'events.consume');
      if (!principal && isViewConsumerName(checked)) {
        throw validationError('events.consume', [{ path: ['name'], code: 'invalid_value', message: `names starting with "${VIEW_CONSUMER_PREFIX}" belong to views' consumers (crm.as(principal).events.consume)` }]);
      }
      if (typeof handler !== 'function') throw validationError('events.consume', [{ path: ['handler'], code: 'invalid_type', message: 'must be a function' }]);
      assertOptionsObject(options, 'events.consume');
      const { onPass, ...plain } = (options ?? {}) as ConsumerOptions;
      if (onPass !== undefined && typeof onPass !== 'function') throw validationError('events.consume', [{ path: ['options', 'onPass'], code: 'invalid_type', message: 'must be a function' }]);
      const parsed = parseInput(consumerOptionsSchema, plain, 'events.consume');
      const config = resolveConsumer(checked, 'app', parsed);
      ctx.assertOpen();
      const [first] = await ensureConsumer(ctx, config);
      // A view's handler sees each event as its principal may, judged when it is delivered: a hidden
      // event is acknowledged without a call (the checkpoint moves past it for good).
      const judged: EventHandler = principal
        ? async (event, handlerCtx) => {
            const [seen] = await visible([event]);
            if (seen) await handler(seen, handlerCtx);
          }
        : handler;
      const runner = new ConsumerRunner(
        ctx,
        { claim: { name: checked }, settings: () => config, handler: () => judged, workerId: config.workerId ?? ctx.newId('worker', ctx.clock.now()), definition: { generation: first?.generation } },
        { concurrency: config.concurrency, pollMs: config.pollMs, partitions: () => config.partitions, ...(onPass ? { onPass } : {}) },
      );
      registry.add(runner);
      if (parsed.start !== false) runner.start();
      return {
        name: shown(checked),
        get running() {
          return runner.active;
        },
        // Async: CLOSED rejects, as every method's errors do.
        drain: async () => {
          ctx.assertOpen();
          return runner.drain();
        },
        stop: async () => {
          await runner.stop();
          registry.delete(runner);
        },
        status: () => status(checked),
      };
    },

    async status(consumer) {
      return status(name(consumer, 'events.status'));
    },

    async consumers() {
      return runRead(ctx, async (op) => {
        const { rows } = await op.query<{ name: string } & BacklogRow>('consumer', { filter: { op: 'eq', field: 'partition', value: 0 }, sort: [{ field: 'name' }], limit: 1000 });
        const out: ConsumerStatus[] = [];
        // A view lists its principal's consumers only.
        const mine = principal ? viewConsumerName(principal.userId, '') : undefined;
        for (const row of rows) {
          if (mine !== undefined && !row.name.startsWith(mine)) continue;
          const found = await readConsumerStatus(op, row.name);
          if (found) out.push(shownStatus(found));
        }
        return out;
      });
    },

    async parked(consumer, options = {}) {
      const checked = name(consumer, 'events.parked');
      assertOptionsObject(options, 'events.parked');
      const parsed = parseInput(pageOptionsSchema, options, 'events.parked');
      // Like status, replay and discard: an unknown consumer is NOT_FOUND, not an empty page.
      if (!(await runRead(ctx, async (op) => (await consumerPartitions(op, checked)).length > 0))) throw notFound('consumer', shown(checked));
      const page = await listBacklog(ctx, checked, 'parked', parsed.limit ?? 50, parsed.cursor);
      // In a view, parked events are shown as its principal may see them now (one that became hidden is left out).
      const seen = principal ? new Map((await visible(page.items.map((row) => row.event))).map((e) => [e.id, e])) : undefined;
      const items = seen ? page.items.filter((row) => seen.has(row.event.id)) : page.items;
      return {
        items: items.map((row) => ({ event: seen?.get(row.event.id) ?? row.event, attempts: row.attempts, ...(row.lastError ? { lastError: row.lastError } : {}), parkedAt: row.parkedAt ?? row.updatedAt })),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    },

    async replay(consumer, eventIds) {
      // crmkit's own consumers too (scheduler notices, webhook deliveries, automations): dead letters are handled the same everywhere.
      return replayParked(ctx, name(consumer, 'events.replay'), ids(eventIds, 'events.replay'));
    },
    async discard(consumer, eventIds) {
      return discardParked(ctx, name(consumer, 'events.discard'), ids(eventIds, 'events.discard'));
    },

    async remove(consumer) {
      const checked = ownName(consumer, 'events.remove');
      for (const runner of registry) {
        if (runner.consumerName === checked) {
          await runner.stop();
          registry.delete(runner);
        }
      }
      return removeConsumer(ctx, checked);
    },

    async prune(options = {}) {
      if (principal) {
        throw new CrmError('FORBIDDEN', 'events.prune deletes events for every user: call it on the crm, not on a view', { action: 'events.prune', reason: 'system job' });
      }
      assertOptionsObject(options, 'events.prune');
      const parsed = parseInput(pruneSchema, options, 'events.prune');
      return pruneFeed(ctx, parsed);
    },
  };
}
