import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { startWebhookServer } from './webhook-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('webhooks: a stop with a request in flight (review12i #3)', { timeout: 30_000 }, () => {
  it.each(['webhooks.stop()', 'crm.close()'])('%s is not the endpoint\'s failure: no failed attempt logged, no failure counted; the event is sent again later', async (how) => {
    const server = await startWebhookServer((_, index) => ({ status: 204, delayMs: index === 0 ? 1500 : 0 }));
    const storage = createMemoryStorage();
    const make = () => createCrm({ storage, tenantId: 't', logger: silentLogger, closeStorage: false, features: [events(), webhooks({ timeoutMs: 5000 })] });
    const crm = await make();
    try {
      const endpoint = await crm.webhooks.create({ url: server.url });
      await crm.contacts.create({ name: 'A' });
      crm.webhooks.start();
      for (let i = 0; i < 100 && server.received.length === 0; i++) await sleep(20);
      expect(server.received).toHaveLength(1);
      if (how === 'crm.close()') await crm.close();
      else await crm.webhooks.stop();
      await sleep(300); // what an abandoned handler would still record

      const again = how === 'crm.close()' ? await make() : crm;
      try {
        expect((await again.webhooks.deliveries(endpoint.id)).items).toEqual([]);
        const stored = await again.webhooks.get(endpoint.id);
        expect(stored.consecutiveFailures).toBe(0);
        expect(stored.failingSince).toBeUndefined();
        expect((await again.webhooks.status(endpoint.id)).failures).toBe(0);
        // Sent again as attempt 1, logged once.
        await again.webhooks.drain();
        const log = (await again.webhooks.deliveries(endpoint.id)).items;
        expect(log.map((a) => [a.status, a.attempt])).toEqual([['succeeded', 1]]);
        expect(server.received.map((r) => r.headers['webhook-id'])).toEqual([log[0]!.eventId, log[0]!.eventId]);
      } finally {
        if (again !== crm) await again.close();
      }
    } finally {
      await crm.close();
      await server.close();
    }
  });

  it('a timeout stays a failed attempt that counts', async () => {
    const server = await startWebhookServer(() => ({ status: 204, delayMs: 1000 }));
    const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 't', logger: silentLogger, features: [events(), webhooks({ timeoutMs: 200 })] });
    try {
      const endpoint = await crm.webhooks.create({ url: server.url });
      await crm.contacts.create({ name: 'A' });
      await crm.webhooks.drain();
      const log = (await crm.webhooks.deliveries(endpoint.id)).items;
      expect(log.map((a) => [a.status, a.error])).toEqual([['failed', 'timed out after 200 ms']]);
      expect((await crm.webhooks.get(endpoint.id)).consecutiveFailures).toBe(1);
    } finally {
      await crm.close();
      await server.close();
    }
  });
});

describe('webhooks: network failures say what went wrong (review12i #4)', { timeout: 30_000 }, () => {
  it('a refused connection is logged with its code and address, in the log, lastError and the disable reason', async () => {
    const port = await closedPort();
    const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 't', logger: silentLogger, features: [events(), webhooks({ disableAfter: { failures: 1, ms: 0 } })] });
    try {
      const endpoint = await crm.webhooks.create({ url: `http://127.0.0.1:${port}/hooks/secret-token` });
      await crm.contacts.create({ name: 'A' });
      await crm.webhooks.drain();
      const [attempt] = (await crm.webhooks.deliveries(endpoint.id)).items;
      expect(attempt!.error).toBe(`TypeError: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`);
      expect((await crm.webhooks.status(endpoint.id)).lastError?.message).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
      const disabled = await crm.webhooks.get(endpoint.id);
      expect(disabled.status).toBe('disabled');
      expect(disabled.disabledReason).toContain(`(last: TypeError: fetch failed (connect ECONNREFUSED 127.0.0.1:${port}))`);
      expect(disabled.disabledReason).not.toContain('secret-token');
    } finally {
      await crm.close();
    }
  });
});
