import { afterAll, describe, expect, inject, it } from 'vitest';
import { createCrm, isCrmError, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { startWebhookServer } from '../../core/test/webhooks/webhook-server.js';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');

describe('postgres: webhook endpoint updates while two processes deliver', () => {
  const bed = createPostgresTestBed(url);
  afterAll(() => bed.end());

  it('an update with a version just read succeeds (health bookkeeping and lease renewals are not its conflicts); a stale one is CONFLICT', async () => {
    const schema = bed.schemaName('whupd');
    // Every third request fails: health bookkeeping (failure counts) writes the endpoint row all the time.
    const server = await startWebhookServer((_request, index) => ({ status: index % 3 === 2 ? 503 : 204 }));
    const make = (workerId: string) =>
      createCrm({
        logger: silentLogger, tenantId: 'acme', storage: createPostgresStorage({ connectionString: url, schema }),
        features: [events(), webhooks({ workerId, leaseMs: 15_000, pollMs: 20, partitions: 8, backoff: { initialMs: 10, maxMs: 50 }, maxAttempts: 20 })],
      });
    const a = await make('a');
    const b = await make('b');
    try {
      const endpoint = await a.webhooks.create({ url: server.url, types: ['contact.created'] });
      const n = 60;
      for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => a.contacts.create({ name: `C${i + j}` })));
      a.webhooks.start();
      b.webhooks.start();
      const failures: string[] = [];
      let updates = 0;
      for (let round = 0; round < 400; round++) {
        const status = await a.webhooks.status(endpoint.id);
        if (status.lag === 0 && status.pending === 0 && round >= 10) break;
        const current = await b.webhooks.get(endpoint.id);
        try {
          const updated = await b.webhooks.update(endpoint.id, { version: current.version, description: `d${round}` });
          expect(updated.version).toBe(current.version + 1);
          updates++;
        } catch (error) {
          failures.push(isCrmError(error) ? `${error.code} ${error.message}` : String(error));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await a.webhooks.stop();
      await b.webhooks.stop();
      expect(failures).toEqual([]);
      expect(updates).toBeGreaterThanOrEqual(10);
      const delivered = new Set(server.received.filter((_r, i) => i % 3 !== 2).map((r) => r.headers['webhook-id']));
      expect(delivered.size).toBe(n);
      const stored = await a.webhooks.get(endpoint.id);
      // Health moved (failures were counted and reset), the API's version counts only the updates.
      expect(stored.version).toBe(1 + updates);
      const stale = await b.webhooks.update(endpoint.id, { version: stored.version - 1, description: 'stale' }).catch((e: unknown) => e);
      expect(isCrmError(stale, 'CONFLICT')).toBe(true);
      expect((await a.webhooks.get(endpoint.id)).description).toBe(stored.description);
      // enable() while the other process delivers: no CONFLICT either.
      const disabled = await a.webhooks.update(endpoint.id, { version: stored.version, enabled: false });
      expect(disabled.status).toBe('disabled');
      expect((await b.webhooks.enable(endpoint.id)).status).toBe('enabled');
    } finally {
      await a.close();
      await b.close();
      await server.close();
      await bed.dropSchema(schema);
    }
  });
});
