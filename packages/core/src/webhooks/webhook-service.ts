import * as z from 'zod/mini';
import { without } from '../domain/records.js';
import { conflict, notFound, validationError } from '../errors/crm-error.js';
import { toTimestamp } from '../domain/clock.js';
import type { CrmEvent } from '../events/event-map.js';
import type { Filter } from '../query/query-spec.js';
import { LIMITS, timestampInputSchema } from '../schema/primitives.js';
import type { CrmContext } from '../crm/context.js';
import type { Page } from '../crm/list-options.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import { removeConsumerRows } from '../consumers/backlog.js';
import { retryConcurrent } from '../crm/retry-concurrent.js';
import { resolveConsumer, type ResolvedConsumer } from '../consumers/consumer-options.js';
import { backlogId, consumerPartitions, newPartitionRows, reconfigurePartitions, type BacklogRow } from '../consumers/consumer-rows.js';
import type { ConsumerRunner, DrainReport } from '../consumers/consumer-runner.js';
import { readConsumerStatus, type ConsumerStatus } from '../consumers/consumer-status.js';
import { feedHead } from '../consumers/feed-read.js';
import { generateSecret, secretKey } from './signing.js';
import { endpointConsumer, endpointKey, type StoredEndpoint, type WebhookAttempt, type WebhookEndpoint } from './webhook-delivery.js';
import { endpointInputSchema, endpointUpdateSchema, rotateSchema, urlProblem, type ResolvedWebhooks, type WebhookEndpointInput, type WebhookEndpointUpdate } from './webhook-options.js';
import { insertMany } from '../crm/feature-writes.js';


/** Previous secrets that still sign after a rotation (each adds a signature to every request). */
const MAX_PREVIOUS_SECRETS = 3;
/** An endpoint together with its new secret (from `create` and `rotateSecret`). */
export type WebhookEndpointWithSecret = WebhookEndpoint & { readonly secret: string };

/**
 * Webhook endpoints of a tenant and their deliveries: `crm.webhooks` (the `webhooks()` feature).
 * Events are POSTed as JSON signed per Standard Webhooks; each endpoint is a durable consumer of the
 * change feed, so deliveries survive restarts and are shared by every process that runs `start()`.
 */
export interface WebhookService {
  /**
   * Adds an endpoint; it receives events committed from now on.
   *
   * @param input `url` (https, or http on localhost), optional `types`, `description`, `secret`, `enabled`.
   * @returns The endpoint and its signing secret (`whsec_…`; generated when not given).
   * @throws CrmError `VALIDATION` for an invalid URL, unknown types format, a secret shorter than 24 bytes, unknown fields.
   * @example
   * const { id, secret } = await crm.webhooks.create({ url: 'https://example.com/hooks', types: ['deal.won'] });
   */
  create(input: WebhookEndpointInput): Promise<WebhookEndpointWithSecret>;
  /** @throws CrmError `NOT_FOUND` */
  get(id: string): Promise<WebhookEndpoint>;
  list(): Promise<WebhookEndpoint[]>;
  /**
   * Changes URL, types, description or enabled state. Enabling resets the failure count; a disabled
   * endpoint keeps its checkpoint, so it receives what happened meanwhile once enabled.
   *
   * @throws CrmError `VALIDATION`, `NOT_FOUND`, `CONFLICT` (stale `version`).
   */
  update(id: string, input: WebhookEndpointUpdate): Promise<WebhookEndpoint>;
  /** Turns a (possibly automatically) disabled endpoint back on. @throws CrmError `NOT_FOUND` */
  enable(id: string): Promise<WebhookEndpoint>;
  /** Removes an endpoint with its pending deliveries and its delivery log, in one transaction. @throws CrmError `NOT_FOUND` */
  remove(id: string): Promise<void>;
  /** The current signing secret. @throws CrmError `NOT_FOUND` */
  secret(id: string): Promise<string>;
  /**
   * Starts signing with a new secret; the previous one also signs for `keepPreviousForMs` (default
   * 24 h), so receivers can switch over without rejecting deliveries (several `v1,` signatures,
   * Standard Webhooks). At most the 3 newest previous secrets keep signing (a header of at most 4 signatures).
   *
   * @throws CrmError `VALIDATION` (bad secret, or the current one), `NOT_FOUND`.
   */
  rotateSecret(id: string, options?: { readonly secret?: string; readonly keepPreviousForMs?: number }): Promise<WebhookEndpointWithSecret>;
  /** The delivery log of an endpoint, newest first (optionally of one event). */
  deliveries(id: string, options?: { readonly eventId?: string; readonly limit?: number; readonly cursor?: string }): Promise<Page<WebhookAttempt>>;
  /**
   * Sends an event to an endpoint again now, even if it was delivered (a replay; parked deliveries
   * too). Returns when it is queued; the delivery itself runs like any other. An event the endpoint
   * has not reached yet is left to its normal delivery, in order after its record's earlier events.
   *
   * @throws CrmError `NOT_FOUND` for an unknown endpoint or an event no longer in the feed (nor in the
   *   endpoint's backlog); `VALIDATION` (code `type_not_subscribed`) when the endpoint's `types` do not
   *   include the event's type — such a replay would send nothing.
   */
  replay(id: string, eventId: string): Promise<void>;
  /**
   * Deletes delivery log entries (every endpoint's) of attempts made before `before`, for retention,
   * in transactions of 500 rows; run it from a job, like `crm.events.prune`.
   *
   * @param options `before`: an ISO-8601 date-time with `Z` or an offset, not in the future; attempts with an earlier `at` are deleted.
   * @returns How many attempts were deleted.
   * @throws CrmError `VALIDATION` (path `before`) for a missing, malformed or impossible `before` (`2026-02-30`,
   *   `T24:00`) or one in the future, and for unknown options; `FORBIDDEN` in a view.
   * @example
   * await crm.webhooks.pruneDeliveries({ before: new Date(Date.now() - 30 * 86_400_000).toISOString() });
   */
  pruneDeliveries(options: { readonly before: string }): Promise<{ readonly deleted: number }>;
  /** Delivery progress of an endpoint: lag, pending retries, parked deliveries. */
  status(id: string): Promise<ConsumerStatus>;
  /** Delivers in the background from this process (any number of processes may run it). */
  start(): void;
  /** Stops background delivery; requests in flight are aborted and retried later. */
  stop(): Promise<void>;
  /** Delivers everything due now from this process, then resolves (jobs, tests). @throws CrmError (rejects) `CLOSED` after `crm.close()`. */
  drain(): Promise<DrainReport>;
}

const pageSchema = z.strictObject({
  eventId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  limit: z.optional(z.number().check(z.int(), z.gte(1), z.lte(LIMITS.listLimit))),
  cursor: z.optional(z.string().check(z.maxLength(4096))),
});

// Health bookkeeping (failure counts, last success) bumps the stored version so its writers conflict, but
// not the API's: an `update` with a version just read must not fail because a delivery was recorded.
const pruneSchema = z.strictObject({ before: timestampInputSchema });
/** Whether two valid secrets are the same key (base64 with or without padding, base64url: the same bytes). */
const sameKey = (a: string, b: string) => String(secretKey(a)) === String(secretKey(b));

/** Deletes up to 500 delivery log entries matching `filter` in the operation's transaction; returns how many. */
async function deleteAttempts(op: Operation, filter: Filter): Promise<number> {
  const { rows } = await op.query<WebhookAttempt>('webhookAttempt', { filter, limit: 500 });
  if (rows.length) await op.write('webhookAttempt', rows.map((row) => ({ type: 'delete' as const, id: row.id })));
  return rows.length;
}

const publicVersion = (stored: StoredEndpoint) => stored.version - (stored.healthWrites ?? 0);
const publicView = (stored: StoredEndpoint): WebhookEndpoint => ({ ...without(stored, 'secrets', 'healthWrites'), version: publicVersion(stored) });

function checkUrl(url: string, settings: ResolvedWebhooks, context: string): void {
  const problem = urlProblem(url, settings.allowInsecureUrls);
  if (problem) throw validationError(context, [{ path: ['url'], code: 'invalid_url', message: problem }]);
}

/** The consumer settings of an endpoint. */
export function endpointSettings(settings: ResolvedWebhooks, endpointId: string, types: readonly string[] | undefined): ResolvedConsumer {
  return resolveConsumer(endpointConsumer(endpointId), 'webhooks', {
    ...(types ? { types: [...types] } : {}),
    partitions: settings.partitions,
    leaseMs: settings.leaseMs,
    handlerTimeoutMs: settings.timeoutMs + Math.min(5000, Math.floor((settings.leaseMs - settings.timeoutMs) / 2)),
    maxAttempts: settings.maxAttempts,
    backoff: settings.backoff,
    pollMs: settings.pollMs,
    batchSize: 50,
  });
}

/** Builds `crm.webhooks` for a context; the runner is shared by the crm's views. */
export function createWebhookService(ctx: CrmContext, settings: ResolvedWebhooks, runner: ConsumerRunner): WebhookService {
  const require = async (op: Operation, id: string) => {
    const endpoint = await op.get<StoredEndpoint>('webhookEndpoint', id);
    if (!endpoint) throw notFound('webhook endpoint', id);
    return endpoint;
  };
  /** `require` for a change: the endpoint's key first, which delivery health updates hold too (no lost race either way). */
  const requireLocked = async (op: Operation, id: string) => {
    await op.tx.lockKeys(op.tenantId, [endpointKey(id)]);
    return require(op, id);
  };
  const service: WebhookService = {
    async create(input) {
      const parsed = parseInput(endpointInputSchema, input, 'webhooks.create');
      checkUrl(parsed.url, settings, 'webhooks.create');
      const secret = parsed.secret ?? generateSecret();
      return runWrite(ctx, async (op) => {
        const enabled = parsed.enabled !== false;
        const endpoint: StoredEndpoint = {
          id: op.newId('webhookEndpoint'), tenantId: op.tenantId, version: 1, createdAt: op.now, updatedAt: op.now,
          url: parsed.url, ...(parsed.types ? { types: parsed.types } : {}), ...(parsed.description ? { description: parsed.description } : {}),
          status: enabled ? 'enabled' : 'disabled', ...(enabled ? {} : { disabledReason: 'created disabled', disabledAt: op.now }),
          consecutiveFailures: 0, secrets: [{ secret }],
        };
        await op.insert('webhookEndpoint', endpoint);
        // Its consumer starts at the feed's head: events committed after this one are delivered.
        const rows = newPartitionRows(op, endpointSettings(settings, endpoint.id, parsed.types), await feedHead(op), !enabled);
        await insertMany(op, 'consumer', rows);
        return { ...publicView(endpoint), secret };
      });
    },

    get: (id) => runRead(ctx, async (op) => publicView(await require(op, parseId(id, 'webhooks.get')))),

    list: () =>
      runRead(ctx, async (op) => {
        const { rows } = await op.query<StoredEndpoint>('webhookEndpoint', { sort: [{ field: 'createdAt' }], limit: LIMITS.listLimit });
        return rows.map(publicView);
      }),

    async update(id, input) {
      const endpointId = parseId(id, 'webhooks.update');
      const parsed = parseInput(endpointUpdateSchema, input, 'webhooks.update');
      if (parsed.url !== undefined) checkUrl(parsed.url, settings, 'webhooks.update');
      let stale = false;
      const attempt = () => runWrite(ctx, async (op) => {
        const current = await requireLocked(op, endpointId);
        if (publicVersion(current) !== parsed.version) {
          stale = true;
          throw conflict('webhookEndpoint', endpointId, parsed.version, publicVersion(current));
        }
        const base = without(current, 'types', 'disabledReason', 'disabledAt', 'failingSince');
        const types = parsed.types === undefined ? current.types : (parsed.types ?? undefined);
        const enabled = parsed.enabled ?? current.status === 'enabled';
        const next: StoredEndpoint = {
          ...base,
          ...(parsed.url !== undefined ? { url: parsed.url } : {}),
          ...(parsed.description !== undefined ? { description: parsed.description } : {}),
          ...(types ? { types } : {}),
          status: enabled ? 'enabled' : 'disabled',
          ...(enabled
            ? { consecutiveFailures: current.status === 'enabled' ? current.consecutiveFailures : 0, ...(current.status === 'enabled' && current.failingSince ? { failingSince: current.failingSince } : {}) }
            : { disabledReason: current.disabledReason ?? 'disabled by update', disabledAt: current.disabledAt ?? op.now }),
          version: current.version + 1,
          updatedAt: op.now,
        };
        await op.update('webhookEndpoint', current, next);
        // Only rows whose paused state or types change are written (lease renewals and pass commits race them).
        await reconfigurePartitions(op, endpointConsumer(endpointId), { paused: !enabled, types: types ?? null });
        return publicView(next);
      });
      // A stale version is the caller's conflict; one with an internal writer is retried.
      return retryConcurrent(ctx, attempt, () => stale);
    },

    // Between reading the version and writing, only the API's own writers can make it stale: read again.
    enable: (id) => retryConcurrent(ctx, async () => service.update(id, { version: (await service.get(id)).version, enabled: true })),

    async remove(id) {
      const endpointId = parseId(id, 'webhooks.remove');
      // One transaction: the consumer's rows (partitions first, then its backlog), the delivery log
      // (unreadable once the endpoint is gone) and the endpoint go together, so a removal cut short
      // leaves everything in place. A consumer or log whose endpoint is gone (left by an older
      // crmkit) is removed too.
      const existed = await retryConcurrent(ctx, () =>
        runWrite(ctx, async (op) => {
          const endpoint = await op.get<StoredEndpoint>('webhookEndpoint', endpointId);
          const hadConsumer = await removeConsumerRows(op, endpointConsumer(endpointId));
          let logged = 0;
          for (let n = 500; n === 500; logged += n) n = await deleteAttempts(op, { op: 'eq', field: 'endpointId', value: endpointId });
          if (endpoint) await op.write('webhookEndpoint', [{ type: 'delete', id: endpointId }]);
          return endpoint !== undefined || hadConsumer || logged > 0;
        }),
      );
      if (!existed) throw notFound('webhook endpoint', endpointId);
    },

    secret: (id) => runRead(ctx, async (op) => (await require(op, parseId(id, 'webhooks.secret'))).secrets[0]!.secret),

    async rotateSecret(id, options = {}) {
      const endpointId = parseId(id, 'webhooks.rotateSecret');
      const parsed = parseInput(rotateSchema, options, 'webhooks.rotateSecret');
      const secret = parsed.secret ?? generateSecret();
      return retryConcurrent(ctx, () => runWrite(ctx, async (op) => {
        const current = await requireLocked(op, endpointId);
        // The same secret again would change nothing but add a second, identical signature.
        if (sameKey(secret, current.secrets[0]!.secret)) throw validationError('webhooks.rotateSecret', [{ path: ['secret'], code: 'invalid_value', message: 'is the current secret: give a new one (or none, to have one generated)' }]);
        const keep = parsed.keepPreviousForMs ?? 86_400_000;
        const expiresAt = toTimestamp(op.nowMs + keep);
        const previous = keep === 0 ? [] : current.secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > op.nowMs).map((s) => ({ secret: s.secret, expiresAt: s.expiresAt && s.expiresAt < expiresAt ? s.expiresAt : expiresAt }));
        // The newest MAX_PREVIOUS_SECRETS keep signing: each adds a signature to every request's header.
        const secrets = [{ secret }, ...previous.filter((s) => !sameKey(s.secret, secret)).slice(0, MAX_PREVIOUS_SECRETS)];
        const next: StoredEndpoint = { ...current, secrets, version: current.version + 1, updatedAt: op.now };
        await op.update('webhookEndpoint', current, next);
        return { ...publicView(next), secret };
      }));
    },

    async deliveries(id, options = {}) {
      const endpointId = parseId(id, 'webhooks.deliveries');
      const parsed = parseInput(pageSchema, options, 'webhooks.deliveries');
      return runRead(ctx, async (op) => {
        await require(op, endpointId);
        const { rows, nextCursor } = await op.query<WebhookAttempt>('webhookAttempt', {
          filter: { op: 'and', filters: [{ op: 'eq', field: 'endpointId', value: endpointId }, ...(parsed.eventId ? [{ op: 'eq' as const, field: 'eventId', value: parsed.eventId }] : [])] },
          sort: [{ field: 'at', direction: 'desc' }, { field: 'id', direction: 'desc' }],
          limit: parsed.limit ?? 50,
          ...(parsed.cursor ? { after: parsed.cursor } : {}),
        });
        return { items: rows, ...(nextCursor ? { nextCursor } : {}) };
      });
    },

    async replay(id, eventId) {
      const endpointId = parseId(id, 'webhooks.replay');
      const checkedEvent = parseId(eventId, 'webhooks.replay', 'eventId');
      await retryConcurrent(ctx, () => runWrite(ctx, async (op) => {
        const endpoint = await require(op, endpointId);
        const consumer = endpointConsumer(endpointId);
        // A parked or pending delivery keeps its event, even after the feed was pruned past it.
        const existing = await op.get<BacklogRow>('consumerBacklog', backlogId(consumer, checkedEvent));
        const event = existing?.event ?? (await op.get<CrmEvent>('event', checkedEvent));
        if (!event || event.position === undefined) throw notFound('event', checkedEvent);
        // The handler skips types the endpoint does not take: a replay of one would silently send nothing.
        if (endpoint.types && !endpoint.types.includes(event.type)) {
          throw validationError('webhooks.replay', [{ path: ['eventId'], code: 'type_not_subscribed', message: `endpoint ${endpointId} does not take ${event.type} events (its types: ${endpoint.types.join(', ')})` }]);
        }
        if (existing) {
          // A pending delivery still waits since its event (or earlier replay); a parked (or discarded) one waits again from now.
          const replayedAt = existing.status !== 'pending' ? op.now : existing.replayedAt;
          await op.update('consumerBacklog', existing, { ...without(existing, 'parkedAt'), status: 'pending', attempts: 0, nextAttemptAt: op.now, replay: true, ...(replayedAt ? { replayedAt } : {}), version: existing.version + 1, updatedAt: op.now });
          return;
        }
        // The endpoint keeps the partition count it was created with (a later `partitions` option only
        // applies to new endpoints): a row placed by this process's setting could land in no partition.
        const rows = await consumerPartitions(op, consumer);
        const partitions = rows[0]?.partitions ?? settings.partitions;
        const partition = (event.shard ?? 0) % partitions;
        // Not reached yet: it is delivered anyway, after its record's earlier events. A backlog row
        // would run first and send it ahead of them.
        if (event.position > (rows.find((r) => r.partition === partition)?.position ?? Infinity)) return;
        const row: BacklogRow = {
          id: backlogId(consumer, event.id), tenantId: op.tenantId, version: 1, createdAt: op.now, updatedAt: op.now,
          consumer, partition, subjectId: event.subjectId, eventId: event.id, position: event.position,
          status: 'pending', attempts: 0, nextAttemptAt: op.now, event, replay: true, replayedAt: op.now,
        };
        await op.insert('consumerBacklog', row);
      }));
    },

    async pruneDeliveries(options) {
      const { before } = parseInput(pruneSchema, options, 'webhooks.pruneDeliveries');
      // A future bound would delete the log of deliveries still being made: surely a mistake.
      if (Date.parse(before) > ctx.clock.now()) throw validationError('webhooks.pruneDeliveries', [{ path: ['before'], code: 'too_big', message: `is in the future (now: ${toTimestamp(ctx.clock.now())})` }]);
      let deleted = 0;
      for (let n = 500; n === 500; deleted += n) n = await runWrite(ctx, (op) => deleteAttempts(op, { op: 'lt', field: 'at', value: before }));
      return { deleted };
    },

    async status(id) {
      const endpointId = parseId(id, 'webhooks.status');
      const found = await runRead(ctx, async (op) => {
        await require(op, endpointId);
        return readConsumerStatus(op, endpointConsumer(endpointId));
      });
      if (!found) throw notFound('webhook endpoint', endpointId);
      return found;
    },

    start: () => {
      ctx.assertOpen();
      runner.start();
    },
    stop: () => runner.stop(),
    // Async: CLOSED rejects, as every method's errors do (`start` returns nothing: it throws).
    drain: async () => {
      ctx.assertOpen();
      return runner.drain();
    },
  };
  return service;
}
