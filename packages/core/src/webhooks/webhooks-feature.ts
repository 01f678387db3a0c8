import type { CrmFeature } from '../crm/feature.js';
import { runRead } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';
import { validationError } from '../errors/crm-error.js';
import type { ConsumerRow } from '../consumers/consumer-rows.js';
import { ConsumerRunner } from '../consumers/consumer-runner.js';
import { deliveryHandler, endpointOfConsumer } from './webhook-delivery.js';
import { webhooksOptionsSchema, resolveWebhooks, type WebhooksOptions } from './webhook-options.js';
import { createWebhookService, endpointSettings, type WebhookService } from './webhook-service.js';

/** The webhooks feature: adds `crm.webhooks`. */
export type WebhooksFeature = CrmFeature<'webhooks', WebhookService>;

/**
 * Signed webhooks as a crm feature: adds `crm.webhooks`. Endpoints per tenant with event-type filters;
 * each endpoint is a durable consumer of the change feed (ordered per record, resumable, shared by the
 * processes that run `crm.webhooks.start()`). Payloads are signed per Standard Webhooks (HMAC-SHA256
 * over `id.timestamp.body` with Web Crypto, `webhook-id`/`webhook-timestamp`/`webhook-signature`
 * headers, several signatures during a secret rotation). Failed deliveries are retried with exponential
 * backoff and jitter, logged per attempt, parked after `maxAttempts` (replayable), and an endpoint that
 * keeps failing is disabled. HTTP goes through `fetch` (injectable) with a timeout.
 *
 * @param options `fetch`, `timeoutMs`, `maxAttempts`, `backoff`, `disableAfter`, `partitions`, … (see `WebhooksOptions`).
 * @returns The feature to pass to `createCrm({ features })`.
 * @throws CrmError `VALIDATION` for unknown or invalid options.
 * @example
 * import { webhooks } from '@crmkit/core/webhooks';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [webhooks()] });
 * await crm.webhooks.create({ url: 'https://example.com/hooks', types: ['deal.won', 'deal.lost'] });
 * crm.webhooks.start();
 */
export function webhooks(options: WebhooksOptions = {}): WebhooksFeature {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw validationError('webhooks', [{ path: [], code: 'invalid_type', message: 'must be an options object (or nothing)' }]);
  }
  const { fetch, ...plain } = options;
  if (fetch !== undefined && typeof fetch !== 'function') throw validationError('webhooks', [{ path: ['fetch'], code: 'invalid_type', message: 'must be a fetch function' }]);
  const settings = resolveWebhooks(parseInput(webhooksOptionsSchema, plain, 'webhooks'), fetch);
  return {
    key: 'webhooks',
    setup(ctx) {
      const runner = new ConsumerRunner(
        ctx,
        {
          claim: { group: 'webhooks' },
          settings: (row: ConsumerRow) => endpointSettings(settings, endpointOfConsumer(row.name), row.types),
          handler: (row: ConsumerRow) => deliveryHandler(ctx, settings, endpointOfConsumer(row.name)),
          workerId: settings.workerId ?? ctx.newId('worker', ctx.clock.now()),
        },
        {
          concurrency: settings.concurrency,
          pollMs: settings.pollMs,
          partitions: () =>
            runRead(ctx, async (op) => {
              const [row] = await op.tx.aggregate('consumer', op.tenantId, { filter: { op: 'and', filters: [{ op: 'eq', field: 'group', value: 'webhooks' }, { op: 'eq', field: 'paused', value: false }] }, metrics: { n: { fn: 'count' } } });
              return Number(row?.values.n ?? 0);
            }),
        },
      );
      return { api: (viewCtx) => createWebhookService(viewCtx, settings, runner), close: () => runner.stop() };
    },
  };
}
