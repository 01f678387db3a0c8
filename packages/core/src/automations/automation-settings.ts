import * as z from 'zod/mini';
import { userIdSchema } from '../schema/primitives.js';
import { resolveConsumer, type ResolvedConsumer } from '../consumers/consumer-options.js';
import type { Principal } from '../crm/access-guard.js';
import type { AutomationMessenger } from './messenger.js';
import { AUTOMATION_ENTITIES } from './automation-schema.js';
import { TRIGGER_EVENTS } from './trigger-events.js';

/** Options of the `automations()` feature. Unknown options are refused with `VALIDATION`. */
export interface AutomationOptions {
  /** Who rules act as (`crm.as(servicePrincipal)`): the actor of their events, within its access policy. Default `{ userId: 'automation' }`. */
  readonly servicePrincipal?: Principal;
  /** How many runs may cause one another in a chain (default 3; 0: events of automation never trigger rules). */
  readonly maxDepth?: number;
  /** Attempts of a failing run before its event is parked (default 5). */
  readonly maxAttempts?: number;
  /** Retry delays, ms (default `{ initialMs: 1000, multiplier: 2, maxMs: 600000 }`). */
  readonly backoff?: { readonly initialMs?: number; readonly multiplier?: number; readonly maxMs?: number };
  /**
   * Partitions of the rules' feed consumer (power of two, default 1). Fixed for good when the first
   * rule is defined (crmkit's own consumers cannot be removed): a start with another count is refused
   * with `VALIDATION` at `partitions`, so choose it before then. One consumer reads each event once and runs every rule it starts; events are split
   * among partitions by record, so more partitions let several processes share the work, at the cost
   * of more claims per idle round.
   */
  readonly partitions?: number;
  /** Lease of a partition, ms (default 30 000). */
  readonly leaseMs?: number;
  /** Longest sleep between looks at the feed, ms (default 1000). */
  readonly pollMs?: number;
  /** Partitions this process works on at once (default 2). */
  readonly concurrency?: number;
  /** Events per pass (default 100). */
  readonly batchSize?: number;
  /**
   * Sends the e-mails and SMS of `sendMessage` actions. `'external'`: your own feed consumer or a webhook
   * delivers the `automation.message` events. Without either, `define` refuses `sendMessage` actions
   * (`VALIDATION`: nothing would send them).
   */
  readonly messenger?: AutomationMessenger | 'external';
}

export const automationOptionsSchema = z.strictObject({
  servicePrincipal: z.optional(z.strictObject({ userId: userIdSchema, roles: z.optional(z.array(z.string()).check(z.maxLength(100))), teamIds: z.optional(z.array(z.string()).check(z.maxLength(100))) })),
  maxDepth: z.optional(z.number().check(z.int(), z.gte(0), z.lte(20))),
  maxAttempts: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))),
  backoff: z.optional(z.strictObject({ initialMs: z.optional(z.number().check(z.int(), z.gte(0), z.lte(86_400_000))), multiplier: z.optional(z.number().check(z.gte(1), z.lte(10))), maxMs: z.optional(z.number().check(z.int(), z.gte(0), z.lte(86_400_000))) })),
  partitions: z.optional(z.number().check(z.int(), z.gte(1), z.lte(256), z.refine((n) => (n & (n - 1)) === 0, 'must be a power of two'))),
  leaseMs: z.optional(z.number().check(z.int(), z.gte(100), z.lte(3_600_000))),
  pollMs: z.optional(z.number().check(z.int(), z.gte(10), z.lte(3_600_000))),
  concurrency: z.optional(z.number().check(z.int(), z.gte(1), z.lte(64))),
  batchSize: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))),
});

/** Options with defaults applied. */
export interface AutomationSettings {
  readonly principal: Principal;
  readonly maxDepth: number;
  readonly maxAttempts: number;
  readonly backoff: { readonly initialMs: number; readonly multiplier: number; readonly maxMs: number };
  readonly partitions: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly messenger: AutomationMessenger | undefined;
  /** Something delivers `automation.message` events (a messenger, or the host's own consumer: `'external'`). */
  readonly sends: boolean;
}

export function resolveAutomations(options: z.output<typeof automationOptionsSchema>, messenger: AutomationMessenger | 'external' | undefined): AutomationSettings {
  return {
    principal: options.servicePrincipal ?? { userId: 'automation' },
    maxDepth: options.maxDepth ?? 3,
    maxAttempts: options.maxAttempts ?? 5,
    backoff: { initialMs: options.backoff?.initialMs ?? 1000, multiplier: options.backoff?.multiplier ?? 2, maxMs: options.backoff?.maxMs ?? 600_000 },
    partitions: options.partitions ?? 1,
    leaseMs: options.leaseMs ?? 30_000,
    pollMs: options.pollMs ?? 1000,
    concurrency: options.concurrency ?? 2,
    batchSize: options.batchSize ?? 100,
    messenger: messenger === 'external' ? undefined : messenger,
    sends: messenger !== undefined,
  };
}

/** The consumer group of automation's consumers. */
export const RULE_GROUP = 'automations';
/** The one consumer of the feed that runs every rule: it reads each event once and matches all enabled rules. */
export const FEED_CONSUMER = 'crmkit.automations';
/** The consumer that hands `automation.message` events to the host's messenger. */
export const MESSAGE_CONSUMER = 'crmkit.automations.messages';

/** Every event type a rule can start on (`event` triggers, field changes of each record type, stage moves). */
export const FEED_TYPES: readonly string[] = [...new Set([...TRIGGER_EVENTS, ...AUTOMATION_ENTITIES.map((e) => `${e}.updated`)])];

/** The consumer settings of the rules' feed consumer, or (with `types`) of the message consumer. */
export function ruleConsumerSettings(settings: AutomationSettings, types?: readonly string[]): ResolvedConsumer {
  return resolveConsumer(types ? MESSAGE_CONSUMER : FEED_CONSUMER, types ? 'messages' : RULE_GROUP, {
    types: [...(types ?? FEED_TYPES)],
    partitions: types ? 1 : settings.partitions,
    leaseMs: settings.leaseMs,
    // A third of the lease (real time: a hung run is cut off while its lease still holds).
    handlerTimeoutMs: Math.max(1, Math.floor(settings.leaseMs / 3)),
    maxAttempts: settings.maxAttempts,
    backoff: settings.backoff,
    pollMs: settings.pollMs,
    batchSize: settings.batchSize,
    from: 'now',
  });
}
