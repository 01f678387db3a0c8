import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

describe('stopping a consumer whose handler ignores its signal', () => {
  it('stop() and close() do not wait out handlerTimeoutMs; the event stays unacknowledged, no attempt counted', async () => {
    const { crm } = await createTestCrm({ now: Date.now() });
    await crm.contacts.create({ name: 'Ada' });
    let called!: () => void;
    const inHandler = new Promise<void>((resolve) => (called = resolve));
    let aborted = false;
    // An hour-long timeout: if stop() waited for it, this test would time out.
    const consumer = await crm.events.consume('hang', (_event, { signal }) => {
      signal.addEventListener('abort', () => (aborted = true));
      called();
      return new Promise(() => undefined);
    }, { leaseMs: 3_600_000, handlerTimeoutMs: 3_599_000, partitions: 1 });
    await inHandler;
    await consumer.stop();
    expect(aborted).toBe(true);
    expect(consumer.running).toBe(false);
    const status = await consumer.status();
    expect(status).toMatchObject({ lag: 1, handled: 0, failures: 0, pending: 0, parked: 0 });
    expect(status.partitions[0]!.leaseOwner).toBeUndefined(); // the pass committed and released its lease
    // Another run handles it.
    const seen: string[] = [];
    const again = await crm.events.consume('hang', (event) => void seen.push(event.type), { start: false, leaseMs: 3_600_000, handlerTimeoutMs: 3_599_000, partitions: 1 });
    expect(await again.drain()).toMatchObject({ handled: 1 });
    expect(seen).toEqual(['contact.created']);
    await crm.close();
  });

  it('crm.close() does not wait for a hung handler either', async () => {
    const { crm } = await createTestCrm({ now: Date.now() });
    await crm.contacts.create({ name: 'Ada' });
    let called!: () => void;
    const inHandler = new Promise<void>((resolve) => (called = resolve));
    await crm.events.consume('hang', () => (called(), new Promise(() => undefined)), { leaseMs: 3_600_000, handlerTimeoutMs: 3_599_000, partitions: 1 });
    await inHandler;
    await crm.close();
  });
});
