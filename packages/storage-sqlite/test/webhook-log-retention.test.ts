import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStorage, isCrmError, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';
import { endSubjects, subjects, type Subject } from './support/subjects.js';

/**
 * The webhook delivery log's retention on every engine: `pruneDeliveries({ before })` deletes attempts
 * older than `before` (every endpoint's, past one 500-row transaction), and `remove(id)` deletes the
 * endpoint's log with it (a log left by an older crmkit's removal too), while other endpoints' logs stay.
 */

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const DAY = 86_400_000;
afterAll(() => endSubjects());

const engines: Subject[] = [{ name: 'memory', make: async () => ({ adapter: createMemoryStorage(), dispose: async () => undefined }) }, ...subjects()];

/** Delivery log rows written straight to the storage: a log that grew over months. */
async function seedLog(storage: StorageAdapter, endpointId: string, count: number, at: string, tag: string) {
  const rows = Array.from({ length: count }, (_, i) => ({
    id: `what_${tag}_${i}`, tenantId: 'test', version: 1, createdAt: at, updatedAt: at,
    endpointId, eventId: `evt_${tag}_${i}`, eventType: 'contact.created', attempt: 1, status: 'succeeded', at, durationMs: 3, httpStatus: 204, response: 'x'.repeat(1000),
  }));
  await storage.transaction('rw', (tx) => tx.write('webhookAttempt', 'test', rows.map((row) => ({ type: 'insert' as const, row }))));
}

async function storedLog(storage: StorageAdapter, endpointId: string): Promise<number> {
  return storage.transaction('r', async (tx) => {
    const [row] = await tx.aggregate('webhookAttempt', 'test', { filter: { op: 'eq', field: 'endpointId', value: endpointId }, metrics: { n: { fn: 'count' } } });
    return Number(row?.values.n ?? 0);
  });
}

describe.each(engines)('webhook delivery log retention: $name', (engine) => {
  it('pruneDeliveries deletes attempts before the date; remove deletes the endpoint log in its transaction', { timeout: 300_000 }, async () => {
    const { adapter, dispose } = await engine.make();
    const { crm, clock } = await createTestCrm({ now: T0, storage: adapter as never, features: [events(), webhooks({ fetch: async () => ({ status: 204, text: async () => 'ok' }) })] });
    try {
      const a = await crm.webhooks.create({ url: 'https://example.com/a', types: ['contact.created'] });
      const b = await crm.webhooks.create({ url: 'https://example.com/b', types: ['contact.created'] });
      for (let i = 0; i < 3; i++) await crm.contacts.create({ name: `C${i}` });
      await crm.webhooks.drain();
      const old = new Date(T0 - 10 * DAY).toISOString();
      await seedLog(adapter, a.id, 300, old, 'a');
      await seedLog(adapter, b.id, 300, old, 'b');
      expect([await storedLog(adapter, a.id), await storedLog(adapter, b.id)]).toEqual([303, 303]);

      // Only attempts before the date go, every endpoint's, over several transactions.
      expect(await crm.webhooks.pruneDeliveries({ before: new Date(T0 - DAY).toISOString() })).toEqual({ deleted: 600 });
      expect([await storedLog(adapter, a.id), await storedLog(adapter, b.id)]).toEqual([3, 3]);
      expect((await crm.webhooks.deliveries(a.id)).items.map((x) => x.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(await crm.webhooks.pruneDeliveries({ before: new Date(T0 - DAY).toISOString() })).toEqual({ deleted: 0 });

      // remove: the endpoint's whole log (more than one batch) goes with it; the other endpoint's stays.
      await seedLog(adapter, a.id, 520, new Date(T0).toISOString(), 'a2');
      await crm.webhooks.remove(a.id);
      expect(await storedLog(adapter, a.id)).toBe(0);
      expect(await storedLog(adapter, b.id)).toBe(3);
      await expect(crm.webhooks.deliveries(a.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(crm.webhooks.remove(a.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });

      // A log whose endpoint an older crmkit removed (rows kept): remove(id) deletes it.
      await seedLog(adapter, 'whe_gone', 4, new Date(T0).toISOString(), 'gone');
      await crm.webhooks.remove('whe_gone');
      expect(await storedLog(adapter, 'whe_gone')).toBe(0);

      // Bad input writes nothing.
      for (const bad of [undefined, {}, { before: 'yesterday' }, { before: new Date(T0).toISOString(), endpointId: b.id }, []]) {
        const error = await crm.webhooks.pruneDeliveries(bad as never).then(() => undefined, (e: unknown) => e);
        expect(isCrmError(error, 'VALIDATION')).toBe(true);
      }
      expect(await storedLog(adapter, b.id)).toBe(3);
      // A date in the future (it would delete the log of deliveries still being made) is refused (review 12f #5).
      await expect(crm.webhooks.pruneDeliveries({ before: new Date(T0 + DAY).toISOString() })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['before'] }] } });
      expect(await storedLog(adapter, b.id)).toBe(3);
      clock.advance(1);
      expect(await crm.webhooks.pruneDeliveries({ before: new Date(clock.now()).toISOString() })).toEqual({ deleted: 3 });
      expect(await storedLog(adapter, b.id)).toBe(0);
    } finally {
      await crm.close();
      await dispose();
    }
  });
});
