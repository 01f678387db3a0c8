import { describe, expect, it } from 'vitest';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';

describe('lagMs after a replay', () => {
  it('counts a replayed webhook delivery from its replay, not from the event’s time', async () => {
    const { crm, clock } = await createTestCrm({ features: [events(), webhooks({ fetch: async () => ({ status: 204, text: async () => '' }) })] });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h' });
    await crm.contacts.create({ name: 'Ada' });
    await crm.webhooks.drain();
    const event = (await crm.events.read()).events.at(-1)!;
    clock.advance(3 * 86_400_000);
    await crm.webhooks.replay(endpoint.id, event.id);
    clock.advance(5000);
    expect(await crm.webhooks.status(endpoint.id)).toMatchObject({ pending: 1, lagMs: 5000 });
    await crm.close();
  });

  it('counts a replayed parked event from its replay, while a real backlog keeps its age', async () => {
    const { crm, clock } = await createTestCrm();
    const ada = await crm.contacts.create({ name: 'Ada' });
    let fail = true;
    const consumer = await crm.events.consume('c', (event) => {
      if (fail && event.subjectId === ada.id) throw new Error('down');
    }, { start: false, partitions: 1, maxAttempts: 1 });
    await consumer.drain();
    const [parked] = (await crm.events.parked('c')).items;
    expect(parked).toBeDefined();
    clock.advance(86_400_000);
    await crm.events.replay('c', [parked!.event.id]);
    clock.advance(1000);
    expect((await consumer.status()).lagMs).toBe(1000);
    // A newer, unhandled event counts from its own time; the oldest wait (the replay's) shows.
    await crm.contacts.update(ada.id, { version: ada.version, jobTitle: 'Engineer' });
    clock.advance(1000);
    expect(await consumer.status()).toMatchObject({ lag: 1, lagMs: 2000 });
    fail = false;
    await consumer.drain();
    expect(await consumer.status()).toMatchObject({ lagMs: 0, pending: 0, parked: 0 });
    await crm.close();
  });
});
