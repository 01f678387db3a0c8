import { describe, expect, it } from 'vitest';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';

describe('lease and timeout settings', () => {
  it('a consumer whose handler timeout is close to its lease (any accepted pair) handles events', async () => {
    const { crm } = await createTestCrm();
    await crm.contacts.create({ name: 'Ada' });
    for (const [leaseMs, handlerTimeoutMs] of [[1000, 950], [30_000, 28_000], [100, 50], [1000, 500], [30_000, 29_950]] as const) {
      const seen: string[] = [];
      const consumer = await crm.events.consume(`c${leaseMs}-${handlerTimeoutMs}`, (event) => void seen.push(event.type), { start: false, leaseMs, handlerTimeoutMs, partitions: 1 });
      const report = await consumer.drain();
      expect({ leaseMs, handlerTimeoutMs, handled: report.handled, seen }).toEqual({ leaseMs, handlerTimeoutMs, handled: 1, seen: ['contact.created'] });
      expect(await consumer.status()).toMatchObject({ lag: 0, handled: 1 });
    }
    await crm.close();
  });

  it('webhooks deliver with a lease just above the request timeout (any accepted pair)', async () => {
    for (const options of [{ leaseMs: 12_000 }, { leaseMs: 11_000 }, { leaseMs: 10_100 }, { timeoutMs: 5000, leaseMs: 6000 }, { timeoutMs: 100, leaseMs: 200 }]) {
      let sent = 0;
      const { crm } = await createTestCrm({ features: [events(), webhooks({ ...options, fetch: async () => (sent++, { status: 204, text: async () => '' }) })] });
      const endpoint = await crm.webhooks.create({ url: 'https://example.com/h' });
      await crm.contacts.create({ name: 'Ada' });
      const report = await crm.webhooks.drain();
      expect({ options, sent, handled: report.handled }).toEqual({ options, sent: 1, handled: 1 });
      expect(await crm.webhooks.status(endpoint.id)).toMatchObject({ lag: 0, handled: 1 });
      await crm.close();
    }
  });

  it('refuses a handler timeout that leaves less than 50 ms of the lease (a renewal round trip would never fit)', async () => {
    const { crm } = await createTestCrm();
    for (const [leaseMs, handlerTimeoutMs] of [[100, 99], [1000, 999], [1000, 951], [30_000, 29_999]] as const) {
      await expect(crm.events.consume(`c${leaseMs}`, () => undefined, { start: false, leaseMs, handlerTimeoutMs })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ path: ['handlerTimeoutMs'] })] } });
    }
    await crm.close();
    for (const options of [{ leaseMs: 10_001 }, { leaseMs: 10_099 }, { timeoutMs: 99, leaseMs: 100 }]) {
      expect(() => webhooks(options)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    }
  });
});
