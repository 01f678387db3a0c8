import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';

/**
 * An injected fetch (a proxy client, an egress gateway) that ignores the abort signal: `timeoutMs`
 * still bounds the attempt — the fetch and the body read race it — every attempt is logged, and a
 * 2xx whose body never ends counts as delivered (sent once, not retried).
 */

const hang = <T>() => new Promise<T>(() => undefined);

async function deliverOnce(fetch: WebhookFetch) {
  const crm = await createCrm({
    storage: createMemoryStorage(),
    tenantId: 't',
    logger: silentLogger,
    features: [events(), webhooks({ fetch, timeoutMs: 200, leaseMs: 2000, maxAttempts: 2, backoff: { initialMs: 10, maxMs: 20 } })],
  });
  const endpoint = await crm.webhooks.create({ url: 'https://example.com/hooks' });
  await crm.contacts.create({ name: 'A' });
  await crm.webhooks.drain();
  await new Promise((resolve) => setTimeout(resolve, 50)); // past the backoff
  await crm.webhooks.drain();
  const log = await crm.webhooks.deliveries(endpoint.id);
  const status = await crm.webhooks.status(endpoint.id);
  await crm.close();
  return { log: log.items, status };
}

describe('webhooks with a fetch that ignores its signal', () => {
  it('a request that never answers: each attempt times out after timeoutMs and is logged; the event is parked after maxAttempts', async () => {
    let calls = 0;
    const { log, status } = await deliverOnce(() => {
      calls++;
      return hang();
    });
    expect(calls).toBe(2);
    expect(log.map((a) => [a.attempt, a.status, a.error])).toEqual([
      [2, 'failed', 'timed out after 200 ms'],
      [1, 'failed', 'timed out after 200 ms'],
    ]);
    expect(status.parked).toBe(1);
  });

  it('a 2xx whose text() never resolves: delivered once, logged with its status', async () => {
    let calls = 0;
    const { log, status } = await deliverOnce(async () => {
      calls++;
      return { status: 200, text: () => hang<string>() };
    });
    expect(calls).toBe(1);
    expect(log.map((a) => [a.attempt, a.status, a.httpStatus])).toEqual([[1, 'succeeded', 200]]);
    expect([status.parked, status.pending]).toEqual([0, 0]);
  });

  it('a 5xx whose body never ends: one failed attempt each, logged as HTTP 503', async () => {
    let calls = 0;
    const { log } = await deliverOnce(async () => {
      calls++;
      return { status: 503, text: () => hang<string>() };
    });
    expect(calls).toBe(2);
    expect(log.map((a) => [a.status, a.httpStatus, a.error])).toEqual([
      ['failed', 503, 'HTTP 503'],
      ['failed', 503, 'HTTP 503'],
    ]);
  });
});
