import { afterAll, describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { endSubjects, subjects, type Subject } from './support/subjects.js';

/**
 * Webhook replay on every engine: a parked delivery replayed with `webhooks.replay` or
 * `events.replay('webhook:<id>')` is sent once, a delivered event replayed is sent again once, and the
 * record's later events still flow (the replay check queries only the log's queryable fields).
 */
afterAll(() => endSubjects());

const engines: Subject[] = [{ name: 'memory', make: async () => ({ adapter: createMemoryStorage(), dispose: async () => undefined }) }, ...subjects()];

describe.each(engines)('webhook replay: $name', (engine) => {
  it('replays parked and delivered events once each; later events of the record flow', { timeout: 300_000 }, async () => {
    const { adapter, dispose } = await engine.make();
    let fail = true;
    const sent: string[] = [];
    const fetch: WebhookFetch = async (_url, init) => {
      sent.push(`${(JSON.parse(init.body) as { type: string }).type} ${init.headers['webhook-id']}`);
      return { status: fail ? 503 : 204, text: async () => '' };
    };
    const crm = await createCrm({ storage: adapter, tenantId: 't', logger: silentLogger, features: [events(), webhooks({ fetch, maxAttempts: 1 })] });
    try {
      const endpoint = await crm.webhooks.create({ url: 'https://example.com/h' });
      const a = await crm.contacts.create({ name: 'A' });
      await crm.contacts.create({ name: 'B' });
      await crm.webhooks.drain();
      const parked = (await crm.events.parked(`webhook:${endpoint.id}`)).items.map((p) => p.event.id);
      expect(parked).toHaveLength(2);

      fail = false;
      sent.length = 0;
      await crm.webhooks.replay(endpoint.id, parked[0]!);
      await crm.events.replay(`webhook:${endpoint.id}`, [parked[1]!]);
      await crm.webhooks.drain();
      expect(sent.sort()).toEqual([`contact.created ${parked[0]}`, `contact.created ${parked[1]}`].sort());

      // A delivered event replayed is sent again, once; the record's next change is delivered after it.
      sent.length = 0;
      await crm.webhooks.replay(endpoint.id, parked[0]!);
      await crm.webhooks.drain();
      await crm.contacts.update(a.id, { version: a.version, jobTitle: 'CEO' });
      await crm.webhooks.drain();
      expect(sent.map((s) => s.split(' ')[0])).toEqual(['contact.created', 'contact.updated']);
      expect(sent[0]).toBe(`contact.created ${parked[0]}`);

      const status = await crm.webhooks.status(endpoint.id);
      expect({ parked: status.parked, pending: status.pending }).toEqual({ parked: 0, pending: 0 });
      expect(status.lastError?.message ?? '').not.toMatch(/queryable/);
      const replayedLog = (await crm.webhooks.deliveries(endpoint.id, { eventId: parked[0]! })).items.filter((x) => x.replayed);
      expect(replayedLog.map((x) => x.status)).toEqual(['succeeded', 'succeeded']);
    } finally {
      await crm.close();
      await dispose();
    }
  });
});
