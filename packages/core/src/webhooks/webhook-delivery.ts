import { isCrmError } from '../errors/crm-error.js';
import { without } from '../domain/records.js';
import type { CrmEvent } from '../events/event-map.js';
import type { RecordBase } from '../schema/record.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import { DeferEvent, type EventHandler } from '../consumers/consumer-options.js';
import { backlogId, reconfigurePartitions, type BacklogRow } from '../consumers/consumer-rows.js';
import type { Filter } from '../query/query-spec.js';
import { describeFailure } from '../consumers/describe-failure.js';
import { retryConcurrent } from '../crm/retry-concurrent.js';
import { signPayload } from './signing.js';
import type { ResolvedWebhooks, WebhookFetch } from './webhook-options.js';

/** A webhook endpoint as the API shows it (secrets are read with `crm.webhooks.secret`). */
export interface WebhookEndpoint extends RecordBase {
  readonly url: string;
  /** Only these event types are sent (absent: every event). */
  readonly types?: readonly string[];
  readonly description?: string;
  readonly status: 'enabled' | 'disabled';
  /** Why and when it was disabled (automatically after persistent failure, or by `update`). */
  readonly disabledReason?: string;
  readonly disabledAt?: string;
  /** Failed attempts since the last success, and when that run of failures began. */
  readonly consecutiveFailures: number;
  readonly failingSince?: string;
  /** The last successful delivery (refreshed at most once a second while the endpoint is healthy; the log has each one). */
  readonly lastSuccessAt?: string;
}

/** A signing secret; while a rotation lasts the previous one signs too, until `expiresAt`. */
export interface EndpointSecret {
  readonly secret: string;
  readonly expiresAt?: string;
}

/** The stored endpoint. */
export interface StoredEndpoint extends WebhookEndpoint {
  readonly secrets: readonly EndpointSecret[];
  /** Stored-version bumps made by health bookkeeping: the API's `version` leaves them out (see `publicView`). */
  readonly healthWrites?: number;
}

/** One HTTP attempt of a delivery: the delivery log. */
export interface WebhookAttempt extends RecordBase {
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  /** 1 for the first try of this event to this endpoint, then 2, 3… (a replay starts again at 1). */
  readonly attempt: number;
  readonly status: 'succeeded' | 'failed';
  readonly at: string;
  readonly httpStatus?: number;
  /** What went wrong: a status, a timeout, a network error. */
  readonly error?: string;
  readonly durationMs: number;
  /** The start of the response body (at most 1000 characters). */
  readonly response?: string;
  readonly replayed?: boolean;
}

export const endpointConsumer = (endpointId: string) => `webhook:${endpointId}`;
export const endpointOfConsumer = (consumer: string) => consumer.slice('webhook:'.length);

/** The JSON body of a delivery: Standard Webhooks' `type`, `timestamp`, `data`, plus where the event sits in the feed. */
export function webhookBody(event: CrmEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.at,
    data: event.data,
    event: {
      id: event.id,
      position: event.position,
      tenantId: event.tenantId,
      subjectType: event.subjectType,
      subjectId: event.subjectId,
      ...(event.actorId ? { actorId: event.actorId } : {}),
    },
  });
}

/** The secrets that sign now: the current one and any previous one whose grace period lasts. */
export function activeSecrets(endpoint: StoredEndpoint, nowMs: number): string[] {
  return endpoint.secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > nowMs).map((s) => s.secret);
}

interface Outcome {
  readonly ok: boolean;
  /** The consumer stopped (`webhooks.stop()`, `crm.close()`) before an answer came: not the endpoint's failure. */
  readonly interrupted?: boolean;
  readonly httpStatus?: number;
  readonly error?: string;
  readonly response?: string;
  readonly durationMs: number;
}

/** Characters of a response body kept in the delivery log. */
const RESPONSE_CHARS = 1000;

/**
 * POSTs one delivery within `timeoutMs` (also ended when the consumer stops: `interrupted`, unless an
 * answer came). Never throws. The fetch and the body read race the deadline, so a fetch that ignores
 * its signal (an injected client) is not waited for past it; a 2xx whose body never ends still counts
 * as delivered.
 */
async function post(fetcher: WebhookFetch, url: string, headers: Record<string, string>, body: string, timeoutMs: number, stopping: AbortSignal): Promise<Outcome> {
  const started = Date.now();
  const controller = new AbortController();
  let expire!: (reason: Error) => void;
  const deadline = new Promise<never>((_, reject) => (expire = reject));
  deadline.catch(() => undefined);
  const end = (reason: Error) => {
    controller.abort(reason);
    expire(reason);
  };
  let interrupted = false;
  // The runner aborts its handlers with CLOSED when it stops; a handler timeout aborts with a TimeoutError.
  const stop = () => {
    interrupted = isCrmError(stopping.reason, 'CLOSED');
    end(new Error('the consumer is stopping'));
  };
  stopping.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(() => end(new Error('timeout')), timeoutMs);
  try {
    const response = await Promise.race([fetcher(url, { method: 'POST', headers, body, signal: controller.signal, redirect: 'manual' }), deadline]);
    // The body is only logged: a read that fails or outlasts the deadline keeps what arrived.
    const head = { text: '' };
    await Promise.race([readHead(response, head, controller.signal), deadline]).catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { ok, httpStatus: response.status, ...(ok ? {} : { error: `HTTP ${response.status}` }), ...(head.text ? { response: head.text.slice(0, RESPONSE_CHARS) } : {}), durationMs: Date.now() - started };
  } catch (error) {
    if (interrupted) return { ok: false, interrupted, durationMs: Date.now() - started };
    return { ok: false, error: controller.signal.aborted ? `timed out after ${timeoutMs} ms` : describeFailure(error), durationMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
    stopping.removeEventListener('abort', stop);
  }
}

/**
 * Reads the first `RESPONSE_CHARS` characters of a response body into `into`: from its stream, which
 * is then cancelled, so a large body is never held whole (`text()` only for a fetch without `body`).
 */
async function readHead(response: Awaited<ReturnType<WebhookFetch>>, into: { text: string }, signal: AbortSignal): Promise<void> {
  if (!response.body) {
    into.text = (await response.text()).slice(0, RESPONSE_CHARS);
    return;
  }
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  const decoder = new TextDecoder();
  try {
    while (into.text.length < RESPONSE_CHARS) {
      const { done, value } = await reader.read();
      if (done) break;
      into.text += decoder.decode(value, { stream: true });
    }
  } finally {
    signal.removeEventListener('abort', cancel);
    cancel(); // the rest is not read (a no-op once the body ended)
  }
}

/** Thrown to have the consumer retry the event with backoff (and park it in the end). */
class DeliveryFailed extends Error {
  override readonly name = 'DeliveryFailed';
}

/**
 * The consumer handler of one endpoint: skip events already acknowledged (a success is in the log;
 * for a replay, a replayed success since the replay was asked for), sign and POST, then record the attempt and the endpoint's failure count in
 * one transaction — disabling the endpoint after persistent failure. A failure throws, so the consumer
 * retries with backoff and parks the event after `maxAttempts`.
 */
export function deliveryHandler(ctx: CrmContext, settings: ResolvedWebhooks, endpointId: string): EventHandler {
  return async (event, context) => {
    const fetcher = settings.fetch ?? (globalThis as { fetch?: WebhookFetch }).fetch;
    if (!fetcher) throw new DeliveryFailed('no fetch: pass webhooks({ fetch })');
    const { endpoint, acknowledged } = await runRead(ctx, async (op) => {
      const endpoint = await op.get<StoredEndpoint>('webhookEndpoint', endpointId);
      const filters: Filter[] = [{ op: 'eq', field: 'eventId', value: event.id }, { op: 'eq', field: 'endpointId', value: endpointId }, { op: 'eq', field: 'status', value: 'succeeded' }];
      if (!context.replayed) {
        const { rows } = await op.query('webhookAttempt', { filter: { op: 'and', filters }, limit: 1 });
        return { endpoint, acknowledged: rows.length > 0 };
      }
      // A replay is sent even if the event was delivered before — but not twice: a replayed success
      // logged since the replay was asked for (by a holder that died before its pass committed) counts.
      // `replayed` is not a queryable field (SQL engines refuse it): the event's few successes are tested here.
      const since = (await op.get<BacklogRow>('consumerBacklog', backlogId(endpointConsumer(endpointId), event.id)))?.replayedAt;
      if (since) filters.push({ op: 'gte', field: 'at', value: since });
      const { rows } = await op.query<WebhookAttempt>('webhookAttempt', { filter: { op: 'and', filters } });
      return { endpoint, acknowledged: rows.some((row) => row.replayed === true) };
    });
    if (!endpoint) return; // removed: nothing to deliver to
    // Disabled meanwhile: not this event's fault; it waits (no attempt counted) until the endpoint is enabled.
    if (endpoint.status !== 'enabled') throw new DeferEvent('the endpoint is disabled');
    if (acknowledged) return; // delivered and recorded before (a redelivery after a crash)
    if (endpoint.types && !endpoint.types.includes(event.type)) return;

    const body = webhookBody(event);
    const timestamp = Math.floor(ctx.clock.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'crmkit-webhooks',
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': await signPayload(activeSecrets(endpoint, ctx.clock.now()), event.id, timestamp, body),
    };
    // Stopped meanwhile: no request goes out after the stop.
    if (context.signal.aborted) throw new DeferEvent('the consumer is stopping');
    const outcome = await post(fetcher, endpoint.url, headers, body, settings.timeoutMs, context.signal);
    // A stop is not the endpoint's failure: nothing is logged or counted toward disabling; it is sent again later.
    if (outcome.interrupted) throw new DeferEvent('the consumer is stopping');
    await recordAttempt(ctx, settings, endpointId, event, context.attempt, context.replayed, outcome);
    if (!outcome.ok) throw new DeliveryFailed(outcome.error ?? 'delivery failed');
  };
}

/** A healthy endpoint's `lastSuccessAt` is refreshed at most this often (ms): every success would contend on one row. */
const SUCCESS_REFRESH_MS = 1000;

/** A health-only write: the stored version moves (writers of the row still conflict), the API's version does not. */
/** The keyed lock (`StorageTx.lockKeys`) writers of an endpoint's row take before they read it. */
export const endpointKey = (endpointId: string): string => `webhookEndpoint:${endpointId}`;

const healthBump = (endpoint: StoredEndpoint) => ({ version: endpoint.version + 1, healthWrites: (endpoint.healthWrites ?? 0) + 1, updatedAt: endpoint.updatedAt });

/**
 * Records one attempt, then the endpoint's health. The attempt commits on its own first, retried on a
 * busy database or a deadlock like management calls: once a 2xx is in the log, a later failure (such
 * as a conflict on the endpoint row, which every partition of every process updates) can never make the consumer retry and POST an acknowledged event again.
 * The health update holds the endpoint's key; when a success's update still fails, the delivery stands
 * and the figure catches up with the next attempt.
 */
async function recordAttempt(ctx: CrmContext, settings: ResolvedWebhooks, endpointId: string, event: CrmEvent, attempt: number, replayed: boolean, outcome: Outcome): Promise<void> {
  // Retried on a busy database or a deadlock: a 2xx missing from the log would be POSTed again.
  await retryConcurrent(ctx, () => runWrite(ctx, async (op) => {
    const record: WebhookAttempt = {
      id: op.newId('webhookAttempt'), tenantId: op.tenantId, version: 1, createdAt: op.now, updatedAt: op.now,
      endpointId, eventId: event.id, eventType: event.type, attempt, status: outcome.ok ? 'succeeded' : 'failed', at: op.now,
      durationMs: outcome.durationMs,
      ...(outcome.httpStatus !== undefined ? { httpStatus: outcome.httpStatus } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.response ? { response: outcome.response } : {}),
      ...(replayed ? { replayed } : {}),
    };
    await op.insert('webhookAttempt', record);
  }));
  // Every partition of every process writes one endpoint's health row: they take its key (`lockKeys`)
  // before reading it, so on PostgreSQL they wait in turn instead of losing races to each other — a failure
  // is always counted toward the automatic disable. A success, which seldom writes, locks only once it must.
  const stale = (endpoint: StoredEndpoint, nowMs: number) =>
    endpoint.consecutiveFailures !== 0 || endpoint.failingSince !== undefined || endpoint.lastSuccessAt === undefined || nowMs - Date.parse(endpoint.lastSuccessAt) >= SUCCESS_REFRESH_MS;
  try {
    await runWrite(ctx, async (op) => {
      if (outcome.ok) {
        const seen = await op.get<StoredEndpoint>('webhookEndpoint', endpointId);
        if (!seen || !stale(seen, op.nowMs)) return;
      }
      await op.tx.lockKeys(op.tenantId, [endpointKey(endpointId)]);
      const endpoint = await op.get<StoredEndpoint>('webhookEndpoint', endpointId);
      if (!endpoint) return;
      let next: StoredEndpoint;
      if (outcome.ok) {
        if (!stale(endpoint, op.nowMs)) return;
        next = { ...without(endpoint, 'failingSince'), consecutiveFailures: 0, lastSuccessAt: op.now, ...healthBump(endpoint) };
      } else {
        const failingSince = endpoint.failingSince ?? op.now;
        const failures = endpoint.consecutiveFailures + 1;
        const persistent = failures >= settings.disableAfter.failures && op.nowMs - Date.parse(failingSince) >= settings.disableAfter.ms;
        next = { ...endpoint, consecutiveFailures: failures, failingSince, ...healthBump(endpoint) };
        if (persistent && endpoint.status === 'enabled') {
          // The URL's path and query often hold a credential: the event (sent to every catch-all endpoint) names the origin only.
          const origin = new URL(endpoint.url).origin;
          const reason = `${failures} failed attempts in a row since ${failingSince} (last: ${(outcome.error ?? 'failed').split(endpoint.url).join(origin)})`;
          // Being disabled is a change users act on: it counts in the API's version.
          next = { ...next, status: 'disabled', disabledReason: reason, disabledAt: op.now, healthWrites: endpoint.healthWrites ?? 0 };
          await reconfigurePartitions(op, endpointConsumer(endpointId), { paused: true });
          op.record('webhook.disabled', { type: 'webhookEndpoint', id: endpointId }, { endpointId, origin, reason, failures });
        }
      }
      await op.update('webhookEndpoint', endpoint, next);
    });
  } catch (error) {
    if (!outcome.ok) throw error; // the delivery failed anyway: the consumer retries it
    ctx.logger.warn('crmkit: webhook endpoint health not updated after a delivery (it is logged)', { endpointId, eventId: event.id, error });
  }
}
