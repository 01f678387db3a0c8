import { afterAll, describe, expect, inject, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');

describe('postgres: the tightest accepted lease settings make progress (real round trips)', () => {
  const bed = createPostgresTestBed(url);
  afterAll(() => bed.end());

  it('consumers with a handler timeout 50 ms short of the lease, and webhooks 100 ms short, handle every event', async () => {
    const schema = bed.schemaName('lease');
    let sent = 0;
    const crm = await createCrm({
      logger: silentLogger, tenantId: 't', storage: createPostgresStorage({ connectionString: url, schema }),
      features: [events(), webhooks({ timeoutMs: 10_000, leaseMs: 10_100, fetch: async () => (sent++, { status: 204, text: async () => '' }) })],
    });
    try {
      const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created'] });
      for (let i = 0; i < 5; i++) await crm.contacts.create({ name: `C${i}` });
      for (const [leaseMs, handlerTimeoutMs] of [[100, 50], [1000, 950], [30_000, 29_950]] as const) {
        let calls = 0;
        const consumer = await crm.events.consume(`c${leaseMs}`, () => void calls++, { start: false, from: 0, partitions: 1, leaseMs, handlerTimeoutMs });
        await consumer.drain();
        expect({ leaseMs, calls, lag: (await consumer.status()).lag }).toEqual({ leaseMs, calls: 5, lag: 0 });
      }
      await crm.webhooks.drain();
      expect(sent).toBe(5);
      expect((await crm.webhooks.status(endpoint.id)).lag).toBe(0);
    } finally {
      await crm.close();
      await bed.dropSchema(schema);
    }
  });

  it('databaseTime() reads the server clock (the same host here: it agrees with the process clock)', async () => {
    const schema = bed.schemaName('dbtime');
    const storage = createPostgresStorage({ connectionString: url, schema });
    const crm = await createCrm({ logger: silentLogger, tenantId: 't', storage });
    try {
      const before = Date.now();
      const database = await storage.databaseTime!();
      expect(database).toBeGreaterThanOrEqual(before - 1000);
      expect(database).toBeLessThanOrEqual(Date.now() + 1000);
    } finally {
      await crm.close();
      await bed.dropSchema(schema);
    }
    await expect(storage.databaseTime!()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
