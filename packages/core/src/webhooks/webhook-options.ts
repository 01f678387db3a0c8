import * as z from 'zod/mini';
import { backoffSchema, LEASE_RESERVE_MS, type BackoffOptions } from '../consumers/consumer-options.js';
import { eventTypesSchema } from '../consumers/feed-read.js';
import { optionalText } from '../schema/primitives.js';
import { secretKey } from './signing.js';

/**
 * The `fetch` crmkit calls: the standard one, or any function of the same shape (tests, proxies, signing
 * gateways). With a `body` stream only the logged first 1000 characters are read (then it is cancelled); else `text()`.
 */
export type WebhookFetch = (
  url: string,
  init: { readonly method: 'POST'; readonly headers: Record<string, string>; readonly body: string; readonly signal: AbortSignal; readonly redirect: 'manual' },
) => Promise<{ readonly status: number; text(): Promise<string>; readonly body?: ReadableStream<Uint8Array> | null }>;

/** Options of the `webhooks()` feature. Unknown options are refused with `VALIDATION`. */
export interface WebhooksOptions {
  /** HTTP client (default: the global `fetch`). */
  readonly fetch?: WebhookFetch;
  /** A request that takes longer fails and is retried (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Attempts per event and endpoint before the delivery is parked (default 8). */
  readonly maxAttempts?: number;
  /** Retry delays (default: 5 s × 6^(attempt-1), at most 10 h, with jitter: about a day of retries). */
  readonly backoff?: BackoffOptions;
  /**
   * An endpoint is disabled after this many failed attempts in a row that span at least `ms`
   * (default 20 attempts over 5 days). A success resets the count; `enable()` turns it back on.
   */
  readonly disableAfter?: { readonly failures?: number; readonly ms?: number };
  /** Partitions per endpoint (default 4): events of one record are delivered in order, others in parallel. */
  readonly partitions?: number;
  /** Endpoints' partitions this process delivers to at the same time (default 4). */
  readonly concurrency?: number;
  /** How long a process holds a partition (default 60 s; at least `timeoutMs` + 100 ms: the room to renew the lease and commit). */
  readonly leaseMs?: number;
  /** Longest sleep between looks at the feed (default 1000 ms). */
  readonly pollMs?: number;
  /** Allow `http://` URLs on hosts other than localhost (default false: only `https://`, or `http://` on loopback). */
  readonly allowInsecureUrls?: boolean;
  /** Name of this worker in leases (default random). */
  readonly workerId?: string;
}

/** Backoff defaults of webhook deliveries: 5 s × 6^(attempt-1), at most 10 h. */
const WEBHOOK_BACKOFF = { initialMs: 5000, multiplier: 6, maxMs: 10 * 3_600_000 } as const;

const positiveInt = (max: number) => z.number().check(z.int(), z.gte(1), z.lte(max));

export const webhooksOptionsSchema = z
  .strictObject({
    timeoutMs: z.optional(z.number().check(z.int(), z.gte(1), z.lte(300_000))),
    maxAttempts: z.optional(positiveInt(100)),
    backoff: z.optional(backoffSchema(WEBHOOK_BACKOFF)),
    disableAfter: z.optional(z.strictObject({ failures: z.optional(positiveInt(100_000)), ms: z.optional(z.number().check(z.int(), z.gte(0), z.lte(365 * 86_400_000))) })),
    partitions: z.optional(positiveInt(256).check(z.refine((n) => (n & (n - 1)) === 0, 'must be a power of two (1, 2, 4 … 256)'))),
    concurrency: z.optional(positiveInt(64)),
    leaseMs: z.optional(z.number().check(z.int(), z.gte(100), z.lte(3_600_000))),
    pollMs: z.optional(z.number().check(z.int(), z.gte(1), z.lte(3_600_000))),
    allowInsecureUrls: z.optional(z.boolean()),
    workerId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._@:+-]{1,100}$/, 'must be 1-100 letters, digits or ._@:+-'))),
  })
  .check(
    // The delivery's handler timeout takes half the gap (see endpointSettings): the other half is the lease reserve.
    z.refine((o) => (o.leaseMs ?? 60_000) - (o.timeoutMs ?? 10_000) >= 2 * LEASE_RESERVE_MS, { message: `must exceed timeoutMs by at least ${2 * LEASE_RESERVE_MS} ms`, path: ['leaseMs'] }),
  );

/** Feature options with defaults applied. */
export interface ResolvedWebhooks {
  readonly fetch: WebhookFetch | undefined;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly backoff: Required<BackoffOptions>;
  readonly disableAfter: { readonly failures: number; readonly ms: number };
  readonly partitions: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly allowInsecureUrls: boolean;
  readonly workerId: string | undefined;
}

export function resolveWebhooks(o: z.output<typeof webhooksOptionsSchema>, fetch: WebhookFetch | undefined): ResolvedWebhooks {
  return {
    fetch,
    timeoutMs: o.timeoutMs ?? 10_000,
    maxAttempts: o.maxAttempts ?? 8,
    backoff: { initialMs: o.backoff?.initialMs ?? WEBHOOK_BACKOFF.initialMs, multiplier: o.backoff?.multiplier ?? WEBHOOK_BACKOFF.multiplier, maxMs: o.backoff?.maxMs ?? WEBHOOK_BACKOFF.maxMs },
    disableAfter: { failures: o.disableAfter?.failures ?? 20, ms: o.disableAfter?.ms ?? 5 * 86_400_000 },
    partitions: o.partitions ?? 4,
    concurrency: o.concurrency ?? 4,
    leaseMs: o.leaseMs ?? 60_000,
    pollMs: o.pollMs ?? 1000,
    allowInsecureUrls: o.allowInsecureUrls ?? false,
    workerId: o.workerId,
  };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Why `text` is not an acceptable endpoint URL, or undefined: absolute http(s), no credentials, at most
 * 2048 characters, `https://` unless the host is loopback or insecure URLs are allowed.
 */
export function urlProblem(text: string, allowInsecure: boolean): string | undefined {
  if (text.length > 2048) return 'must be at most 2048 characters';
  // The URL parser drops surrounding spaces and strips tabs and newlines: refuse them rather than store a
  // URL that is not the one that will be called.
  if ([...text].some((c) => c.trim() === '' || c < ' ' || c === '\u007f')) return 'must not contain spaces or control characters';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL such as https://example.com/hooks';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https (or http on localhost)';
  if (url.protocol === 'http:' && !allowInsecure && !LOOPBACK.test(url.hostname)) return 'must use https (http only for localhost, or with allowInsecureUrls)';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.hash || text.includes('#')) return 'must not contain a #fragment (it is never sent to the server)';
  // The parser maps the host (drops soft hyphens and zero-width spaces, decodes %xx, expands 127.1, punycodes):
  // refuse a host the request would not go to as typed. Only case and a default port may differ.
  const typed = /^https?:\/\/([^/?#]*)/i.exec(text)?.[1]?.toLowerCase();
  if (typed !== url.host && typed !== `${url.hostname}:${url.protocol === 'https:' ? 443 : 80}`) return `must name its host as the URL parser reads it (${url.host})`;
  if (url.port === '0') return 'must not use port 0';
  return undefined;
}

const secretSchema = z.string().check(
  z.maxLength(200),
  z.refine((s) => typeof secretKey(s) !== 'string', { message: 'must be "whsec_" followed by base64 of 24–64 random bytes' }),
);

/** Input of `crm.webhooks.create`. */
export interface WebhookEndpointInput {
  /** Where events are POSTed. */
  readonly url: string;
  /** Only these event types (default: every event). */
  readonly types?: readonly string[];
  readonly description?: string;
  /** A `whsec_` secret of 24–64 bytes (default: a new random one, returned by `create`). */
  readonly secret?: string;
  /** Default true. */
  readonly enabled?: boolean;
}

export const endpointInputSchema = z.strictObject({
  url: z.string(),
  types: z.optional(eventTypesSchema),
  description: optionalText(500),
  secret: z.optional(secretSchema),
  enabled: z.optional(z.boolean()),
});

/** Input of `crm.webhooks.update`. `types: null` removes the filter. */
export interface WebhookEndpointUpdate {
  /** The endpoint's version (optimistic concurrency). */
  readonly version: number;
  readonly url?: string;
  readonly types?: readonly string[] | null;
  readonly description?: string;
  readonly enabled?: boolean;
}

export const endpointUpdateSchema = z.strictObject({
  version: z.number().check(z.int(), z.gte(1)),
  url: z.optional(z.string()),
  types: z.optional(z.nullable(eventTypesSchema)),
  description: optionalText(500),
  enabled: z.optional(z.boolean()),
});

export const rotateSchema = z.strictObject({
  secret: z.optional(secretSchema),
  /** How long the previous secret keeps signing (default 24 h; 0 drops it at once). */
  keepPreviousForMs: z.optional(z.number().check(z.int(), z.gte(0), z.lte(30 * 86_400_000))),
});
