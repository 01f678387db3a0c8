import { afterAll, describe, expect, inject, it } from 'vitest';
import { createCrm, isCrmError, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');

describe('postgres: management calls while three processes deliver', () => {
  const bed = createPostgresTestBed(url);
  afterAll(() => bed.end());

  it('remove, rotateSecret, update, replay and events.remove succeed and leave no orphaned consumer', async () => {
    const schema = bed.schemaName('whadm');
    // Slow-ish endpoints that often fail: lease renewals, pass commits and health bookkeeping write all the time.
    const fetch: WebhookFetch = async () => {
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 5));
      return { status: Math.random() < 0.3 ? 503 : 204, text: async () => '' };
    };
    const open = () =>
      createCrm({
        logger: silentLogger, tenantId: 't',
        storage: createPostgresStorage({ connectionString: url, schema, maxConnections: 4 }),
        features: [events(), webhooks({ fetch, backoff: { initialMs: 20, multiplier: 1, maxMs: 50 }, maxAttempts: 100, pollMs: 50 })],
      });
    const admin = await open();
    const fleet = [await open(), await open(), await open()];
    const errors: string[] = [];
    const act = async (what: string, call: () => Promise<unknown>) => {
      try {
        await call();
      } catch (error) {
        errors.push(`${what}: ${isCrmError(error) ? `${error.code} ${error.message}` : String(error)}`);
      }
    };
    try {
      const endpoints: { id: string }[] = [];
      for (let i = 0; i < 6; i++) endpoints.push(await admin.webhooks.create({ url: `https://example.com/h${i}`, types: ['contact.created'] }));
      await Promise.all(fleet.map((crm) => crm.events.consume('app', () => new Promise((r) => setTimeout(r, 2)), { partitions: 8, pollMs: 50 })));
      for (const crm of fleet) crm.webhooks.start();
      for (let i = 0; i < 80; i++) await admin.contacts.create({ name: `C${i}` });
      const created = (await admin.events.read({ limit: 1000, types: ['contact.created'] })).events;
      for (let i = 0; i < 10; i++) await act('replay', () => admin.webhooks.replay(endpoints[0]!.id, created[i]!.id));
      for (let i = 0; i < 5; i++) await act('rotateSecret', () => admin.webhooks.rotateSecret(endpoints[1]!.id));
      for (let i = 0; i < 5; i++) await act('update', async () => admin.webhooks.update(endpoints[1]!.id, { version: (await admin.webhooks.get(endpoints[1]!.id)).version, description: `d${i}` }));
      for (const endpoint of endpoints.slice(2)) await act('webhooks.remove', () => admin.webhooks.remove(endpoint.id));
      await act('events.remove', () => admin.events.remove('app'));
      expect(errors).toEqual([]);
      const consumers = (await admin.events.consumers()).map((c) => c.name).sort();
      expect(consumers).toEqual(endpoints.slice(0, 2).map((e) => `webhook:${e.id}`).sort());
      expect((await admin.webhooks.list()).map((e) => e.id).sort()).toEqual(endpoints.slice(0, 2).map((e) => e.id).sort());
      expect((await admin.webhooks.get(endpoints[1]!.id)).description).toBe('d4');
    } finally {
      await Promise.all([admin, ...fleet].map((crm) => crm.close()));
      await bed.dropSchema(schema);
    }
  });
});
