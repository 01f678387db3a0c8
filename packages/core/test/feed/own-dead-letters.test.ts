import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { createFakeClock, createTestCrm } from '@crmkit/core/testing';

/** Parked scheduler notices and webhook deliveries are dead letters like any consumer's: replayable and discardable. */
describe("dead letters of crmkit's own consumers", () => {
  it('a parked scheduler notice is replayed by crm.events.replay (parked goes down, the handler gets it) and discarded by crm.events.discard', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const crm = await createCrm({ storage: createMemoryStorage(), clock, tenantId: 't', logger: silentLogger, features: [tasks(), events(), scheduler()] });
    let fail = true;
    const got: string[] = [];
    crm.on('task.due', (e) => {
      if (fail) throw new Error('smtp down');
      got.push(e.subjectId);
    });
    await crm.scheduler.tick();
    await crm.tasks.create({ subject: 'a', dueAt: new Date(clock.now() + 60_000).toISOString() });
    await crm.tasks.create({ subject: 'b', dueAt: new Date(clock.now() + 60_000).toISOString() });
    for (let i = 0; i < 6; i++) {
      clock.advance(3_600_000);
      await crm.scheduler.tick();
    }
    const name = 'crmkit.scheduler.notices:task.due';
    const parked = (await crm.events.parked(name)).items;
    expect(parked).toHaveLength(2);
    const [first, second] = parked.map((p) => p.event);
    fail = false;
    expect(await crm.events.replay(name, [first!.id])).toBe(1);
    expect(await crm.events.discard(name, [second!.id])).toBe(1);
    expect((await crm.events.status(name)).parked).toBe(0);
    await crm.scheduler.tick();
    expect(got).toEqual([first!.subjectId]);
    const status = await crm.events.status(name);
    expect([status.parked, status.pending]).toEqual([0, 0]);
    // Consuming or removing crmkit's consumers stays refused.
    await expect(crm.events.remove(name)).rejects.toMatchObject({ code: 'VALIDATION' });
    await crm.close();
  });

  it('a parked webhook delivery is discarded by crm.events.discard, and replayed by crm.events.replay', async () => {
    let answer = 400;
    const sent: string[] = [];
    const fetch: WebhookFetch = async (_url, init) => {
      sent.push(init.body);
      return { status: answer, text: async () => '' };
    };
    const { crm } = await createTestCrm({ features: [events(), webhooks({ fetch, maxAttempts: 1, disableAfter: { failures: 100, ms: 1 } })] });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created'] });
    await crm.contacts.create({ name: 'A' });
    await crm.contacts.create({ name: 'B' });
    await crm.webhooks.drain();
    const name = `webhook:${endpoint.id}`;
    const parked = (await crm.events.parked(name)).items.map((p) => p.event.id);
    expect(parked).toHaveLength(2);
    expect((await crm.webhooks.status(endpoint.id)).parked).toBe(2);
    expect(await crm.events.discard(name, [parked[0]!])).toBe(1);
    expect((await crm.webhooks.status(endpoint.id)).parked).toBe(1);
    answer = 204;
    sent.length = 0;
    expect(await crm.events.replay(name, [parked[1]!])).toBe(1);
    await crm.webhooks.drain();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain(parked[1]);
    expect((await crm.webhooks.status(endpoint.id)).parked).toBe(0);
    await crm.close();
  });
});
