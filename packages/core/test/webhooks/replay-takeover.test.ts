import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { createFakeClock } from '@crmkit/core/testing';

/**
 * Process A POSTs, the receiver answers 204, A logs the success and then "dies" before its pass
 * commits (its lease runs out); process B takes the partition over and redoes the pass.
 */
async function takeover(replay: boolean) {
  const inner = createMemoryStorage();
  let afterAttempt: (() => Promise<void>) | undefined;
  const storage = new Proxy(inner, {
    get(target, key) {
      if (key === 'transaction') {
        return async (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => {
          let logged = false;
          const result = await target.transaction(mode, (tx) =>
            fn(new Proxy(tx, {
              get(t, k) {
                if (k === 'write') return (entity: string, ...rest: unknown[]) => ((logged ||= entity === 'webhookAttempt'), (t.write as (...a: unknown[]) => unknown).call(t, entity, ...rest));
                const value = Reflect.get(t, k) as unknown;
                return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
              },
            })),
          );
          if (logged && afterAttempt) {
            const died = afterAttempt;
            afterAttempt = undefined;
            await died();
          }
          return result;
        };
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as StorageAdapter;
  const clock = createFakeClock();
  const sent: string[] = [];
  const fetch: WebhookFetch = async (_url, init) => (sent.push(init.headers['webhook-id']!), { status: 204, text: async () => '' });
  const a = await createCrm({ storage, clock, tenantId: 't', features: [events(), webhooks({ fetch, partitions: 1 })], closeStorage: false });
  const b = await createCrm({ storage: inner, clock, tenantId: 't', features: [events(), webhooks({ fetch, partitions: 1 })], closeStorage: false });
  const endpoint = await a.webhooks.create({ url: 'https://example.com/h' });
  await a.contacts.create({ name: 'Ada' });
  if (replay) {
    await a.webhooks.drain();
    sent.length = 0;
    const [created] = (await a.events.read({ types: ['contact.created'] })).events;
    await a.webhooks.replay(endpoint.id, created!.id);
  }
  afterAttempt = async () => {
    clock.advance(61_000);
    await b.webhooks.drain();
  };
  await a.webhooks.drain().catch(() => undefined);
  await a.webhooks.drain();
  const status = await a.webhooks.status(endpoint.id);
  await a.close();
  await b.close();
  return { sent: sent.length, pending: status.pending, lag: status.lag };
}

describe('webhook deliveries taken over after the holder died before its commit', () => {
  it('an acknowledged delivery is not sent again', async () => {
    expect(await takeover(false)).toEqual({ sent: 1, pending: 0, lag: 0 });
  });

  it('an acknowledged replay is not sent again either', async () => {
    expect(await takeover(true)).toEqual({ sent: 1, pending: 0, lag: 0 });
  });
});
