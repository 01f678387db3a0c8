import { describe, expect, it } from 'vitest';
import { CrmError, createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';

const backoff = { initialMs: 1000, multiplier: 2, maxMs: 10_000 };

describe('webhook replays racing deliveries', () => {
  it('replays an event the checkpoint has not reached while the endpoint fails: retried, then parked, never stuck', async () => {
    const sent: string[] = [];
    const { crm, clock } = await createTestCrm({
      features: [events(), webhooks({ partitions: 1, maxAttempts: 2, backoff, fetch: async (_url, init) => (sent.push(init.headers['webhook-id']!), { status: 503, text: async () => '' }) })],
    });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created'] });
    await crm.contacts.create({ name: 'Ada' });
    const ada = (await crm.events.read({ types: ['contact.created'] })).events.at(-1)!;
    await crm.webhooks.replay(endpoint.id, ada.id);
    await crm.contacts.create({ name: 'Grace' });
    for (let i = 0; i < 4; i++) {
      await crm.webhooks.drain(); // used to throw CONFLICT on every pass
      clock.advance(61_000);
    }
    // Two events, two attempts each (the replayed one is tried from the backlog only), then parked.
    expect(sent).toHaveLength(4);
    expect(sent.filter((id) => id === ada.id)).toHaveLength(2);
    const status = await crm.webhooks.status(endpoint.id);
    expect(status).toMatchObject({ lag: 0, pending: 0, parked: 2, failures: 4 });
    expect(status.lastError?.message).toMatch(/503/);
    await crm.close();
  });

  it('replays a later event of a record that already waits for a retry: queued once, delivered in order', async () => {
    const sent: string[] = [];
    let failing = true;
    const { crm, clock } = await createTestCrm({
      features: [events(), webhooks({ partitions: 1, backoff, fetch: async (_url, init) => (sent.push(init.headers['webhook-id']!), { status: failing ? 503 : 204, text: async () => '' }) })],
    });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created', 'contact.updated'] });
    const ada = await crm.contacts.create({ name: 'Ada' });
    await crm.webhooks.drain(); // created: fails, waits for a retry
    await crm.contacts.update(ada.id, { version: ada.version, jobTitle: 'Engineer' });
    const updated = (await crm.events.read({ types: ['contact.updated'] })).events.at(-1)!;
    await crm.webhooks.replay(endpoint.id, updated.id); // ahead of the checkpoint, behind the waiting retry
    await crm.webhooks.drain(); // the retry is not due: the update waits behind it (used to throw CONFLICT)
    failing = false;
    clock.advance(61_000);
    await crm.webhooks.drain();
    const created = (await crm.events.read({ types: ['contact.created'] })).events.at(-1)!;
    expect(sent).toEqual([created.id, created.id, updated.id]);
    expect(await crm.webhooks.status(endpoint.id)).toMatchObject({ lag: 0, pending: 0, parked: 0 });
    await crm.close();
  });

  it('replays a pending delivery while a pass is sending it: the pass commits, the replay stays due, the lease is released', async () => {
    let n = 0;
    let release!: () => void;
    let inFetch!: () => void;
    const entered = new Promise<void>((resolve) => (inFetch = resolve));
    const { crm, clock } = await createTestCrm({
      features: [
        events(),
        webhooks({
          partitions: 1,
          backoff,
          fetch: async () => {
            n++;
            if (n === 2) {
              inFetch();
              await new Promise<void>((resolve) => (release = resolve));
            }
            return { status: n <= 2 ? 503 : 204, text: async () => '' };
          },
        }),
      ],
    });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h' });
    await crm.contacts.create({ name: 'Ada' });
    const event = (await crm.events.read()).events.at(-1)!;
    await crm.webhooks.drain(); // attempt 1 fails: pending retry
    clock.advance(2000);
    const draining = crm.webhooks.drain();
    await entered;
    await crm.webhooks.replay(endpoint.id, event.id);
    release();
    // The pass's failed attempt commits; the replay stays due, so the same drain sends it once more.
    await expect(draining).resolves.toMatchObject({ failed: 1, handled: 1 });
    expect(n).toBe(3);
    const status = await crm.webhooks.status(endpoint.id);
    expect(status.partitions[0]!.leaseOwner).toBeUndefined();
    expect(status).toMatchObject({ pending: 0, parked: 0, failures: 2, lag: 0 });
    await crm.close();
  });

  it('releases the lease when a pass commit fails, so the next pass need not wait for it to expire', async () => {
    const memory = createMemoryStorage();
    let failBacklogWrites = false;
    const storage: StorageAdapter = {
      ...memory,
      open: (s) => memory.open(s),
      onChange: (l) => memory.onChange(l),
      close: () => memory.close(),
      transaction: (mode, fn) =>
        memory.transaction(mode, (tx) =>
          fn({
            ...tx,
            getMany: tx.getMany, query: tx.query, aggregate: tx.aggregate, nextSequence: tx.nextSequence, claim: tx.claim, lockKeys: tx.lockKeys,
            write: async (entity, tenant, ops) => {
              if (failBacklogWrites && entity === 'consumerBacklog') throw new CrmError('STORAGE', 'disk full (injected)', { adapter: 'memory', retryable: true });
              return tx.write(entity, tenant, ops);
            },
          }),
        ),
    };
    const sent: string[] = [];
    const { crm } = await createTestCrm({
      storage: storage as never,
      features: [events(), webhooks({ partitions: 1, leaseMs: 60_000, fetch: async (_url, init) => (sent.push(init.headers['webhook-id']!), { status: sent.length === 1 ? 503 : 204, text: async () => '' }) })],
    });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h' });
    await crm.contacts.create({ name: 'Ada' });
    failBacklogWrites = true;
    await expect(crm.webhooks.drain()).rejects.toMatchObject({ code: 'STORAGE' });
    failBacklogWrites = false;
    const status = await crm.webhooks.status(endpoint.id);
    expect(status.partitions[0]!.leaseOwner).toBeUndefined();
    expect(status.lag).toBe(1); // nothing acknowledged
    expect(await crm.webhooks.drain()).toMatchObject({ handled: 1, leasedElsewhere: false });
    expect(sent).toHaveLength(2);
    await crm.close();
  });

  it("a replay of an event the endpoint has not reached yet keeps its record's order (delivered once, after the earlier events)", async () => {
    const got: string[] = [];
    const { crm } = await createTestCrm({
      features: [events(), webhooks({ partitions: 1, fetch: async (_url, init) => (got.push(JSON.parse(init.body).type), { status: 204, text: async () => '' }) })],
    });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created', 'contact.updated'] });
    const ada = await crm.contacts.create({ name: 'Ada' });
    await crm.contacts.update(ada.id, { version: ada.version, jobTitle: 'Engineer' });
    const updated = (await crm.events.read({ types: ['contact.updated'] })).events.at(-1)!;
    await crm.webhooks.replay(endpoint.id, updated.id);
    await crm.webhooks.drain();
    expect(got).toEqual(['contact.created', 'contact.updated']);
    expect(await crm.webhooks.status(endpoint.id)).toMatchObject({ lag: 0, pending: 0 });
    // Once reached, a replay sends it again.
    await crm.webhooks.replay(endpoint.id, updated.id);
    await crm.webhooks.drain();
    expect(got).toEqual(['contact.created', 'contact.updated', 'contact.updated']);
    await crm.close();
  });
});
