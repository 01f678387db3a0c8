import { afterAll, describe, expect, inject, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { startWebhookServer } from '../../core/test/webhooks/webhook-server.js';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');

describe('postgres: webhook endpoint health while four processes deliver', () => {
  const bed = createPostgresTestBed(url);
  afterAll(() => bed.end());

  it('every failed attempt is counted toward the automatic disable (health writes of all partitions take turns, none is lost)', async () => {
    const schema = bed.schemaName('whhealth');
    const server = await startWebhookServer(() => ({ status: 503 }));
    const make = (workerId: string) =>
      createCrm({
        logger: silentLogger, tenantId: 'acme', storage: createPostgresStorage({ connectionString: url, schema, maxConnections: 6 }),
        features: [events(), webhooks({ workerId, leaseMs: 15_000, pollMs: 10, partitions: 16, backoff: { initialMs: 5, maxMs: 20 }, maxAttempts: 2, disableAfter: { failures: 100_000 } })],
      });
    const crms = [await make('a'), await make('b'), await make('c'), await make('d')];
    const [a] = crms as [Awaited<ReturnType<typeof make>>];
    try {
      const endpoint = await a.webhooks.create({ url: server.url, types: ['contact.created'] });
      const n = 120;
      for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => a.contacts.create({ name: `C${i + j}` })));
      for (const crm of crms) crm.webhooks.start();
      for (let round = 0; round < 600; round++) {
        const status = await a.webhooks.status(endpoint.id);
        if (status.lag === 0 && status.pending === 0 && status.parked === n) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const crm of crms) await crm.webhooks.stop();
      let failed = 0;
      for (let cursor: string | undefined, first = true; first || cursor; first = false) {
        const page = await a.webhooks.deliveries(endpoint.id, { limit: 500, ...(cursor ? { cursor } : {}) });
        failed += page.items.filter((d) => d.status === 'failed').length;
        cursor = page.nextCursor;
      }
      expect(failed).toBe(2 * n);
      expect((await a.webhooks.get(endpoint.id)).consecutiveFailures).toBe(failed);
    } finally {
      for (const crm of crms) await crm.close();
      await server.close();
      await bed.dropSchema(schema);
    }
  }, 120_000);
});
