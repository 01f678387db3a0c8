import { describe, expect, it } from 'vitest';
import { CrmError, isCrmError } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';
import { faultyStorage, type WriteFault } from '../helpers.js';

/** Fails the write that would delete more than `n` backlog rows from now on (a removal cut short midway). */
const failAfterBacklogDeletes = (n: number): WriteFault => {
  let deleted = 0;
  return (entity, ops) => {
    if (entity !== 'consumerBacklog') return undefined;
    deleted += ops.filter((o) => o.type === 'delete').length;
    return deleted > n ? new Error('connection lost') : undefined;
  };
};

/** Fails the first `n` writes to an entity with a concurrent writer's CONFLICT. */
const conflictTimes = (target: string, n: number): WriteFault => {
  let left = n;
  return (entity) => (entity === target && left-- > 0 ? new CrmError('CONFLICT', `${entity} changed concurrently`, { entity, id: 'x', expectedVersion: 1, actualVersion: 2 }) : undefined);
};

describe('consumer and endpoint removal', () => {
  it('events.remove cut short midway leaves the consumer whole, dead letters included; the next call removes it all', async () => {
    const { storage, state } = faultyStorage();
    const { crm } = await createTestCrm({ storage, features: [events()] });
    for (let i = 0; i < 700; i++) await crm.contacts.create({ name: `C${i}` });
    const consumer = await crm.events.consume('sync', () => Promise.reject(new Error('down')), { start: false, partitions: 1, from: 0, maxAttempts: 1, batchSize: 1000 });
    await consumer.drain();
    const before = await crm.events.status('sync');
    expect(before.parked).toBe(700);
    state.fault = failAfterBacklogDeletes(500);
    await expect(crm.events.remove('sync')).rejects.toThrow('connection lost');
    state.fault = undefined;
    expect(await crm.events.status('sync')).toMatchObject({ parked: 700, position: before.position });
    expect(await crm.events.remove('sync')).toBe(true);
    expect(await storage.transaction('r', (tx) => tx.query('consumerBacklog', 'test', { limit: 10 }))).toMatchObject({ rows: [] });
    await expect(crm.events.status('sync')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await crm.close();
  });

  it('webhooks.remove cut short leaves endpoint and consumer; an orphaned consumer (endpoint row gone) is removable', async () => {
    const { storage, state } = faultyStorage();
    const { crm } = await createTestCrm({ storage, features: [events(), webhooks({ maxAttempts: 1, fetch: async () => ({ status: 500, text: async () => '' }) })] });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created'] });
    for (let i = 0; i < 3; i++) await crm.contacts.create({ name: `C${i}` });
    await crm.webhooks.drain();
    expect((await crm.webhooks.status(endpoint.id)).parked).toBe(3);
    state.fault = failAfterBacklogDeletes(1);
    await expect(crm.webhooks.remove(endpoint.id)).rejects.toThrow('connection lost');
    state.fault = undefined;
    expect((await crm.webhooks.get(endpoint.id)).id).toBe(endpoint.id);
    expect((await crm.webhooks.status(endpoint.id)).parked).toBe(3);
    // What an older two-step removal could leave: the endpoint row gone, its consumer still there.
    await storage.transaction('rw', (tx) => tx.write('webhookEndpoint', 'test', [{ type: 'delete', id: endpoint.id }]));
    await expect(crm.webhooks.get(endpoint.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await crm.webhooks.remove(endpoint.id);
    expect((await crm.events.consumers()).map((c) => c.name)).toEqual([]);
    expect(await storage.transaction('r', (tx) => tx.query('consumerBacklog', 'test', { limit: 10 }))).toMatchObject({ rows: [] });
    await expect(crm.webhooks.remove(endpoint.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await crm.close();
  });

  it('management calls retry conflicts with internal writers (with backoff) instead of failing', async () => {
    const { storage, state } = faultyStorage();
    const { crm } = await createTestCrm({ storage, features: [events(), webhooks({ maxAttempts: 1, fetch: async () => ({ status: 500, text: async () => '' }) })] });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created'] });
    const other = await crm.webhooks.create({ url: 'https://example.com/o' });
    await crm.contacts.create({ name: 'Ada' });
    await crm.webhooks.drain();
    const [parked] = (await crm.events.read({ types: ['contact.created'] })).events;
    const consumer = await crm.events.consume('app', () => Promise.reject(new Error('down')), { start: false, from: 0, maxAttempts: 1 });
    await consumer.drain();
    const calls: [string, string, () => Promise<unknown>][] = [
      ['rotateSecret', 'webhookEndpoint', () => crm.webhooks.rotateSecret(endpoint.id)],
      ['update', 'webhookEndpoint', async () => crm.webhooks.update(endpoint.id, { version: (await crm.webhooks.get(endpoint.id)).version, description: 'd' })],
      ['disable', 'webhookEndpoint', async () => crm.webhooks.update(endpoint.id, { version: (await crm.webhooks.get(endpoint.id)).version, enabled: false })],
      ['enable', 'webhookEndpoint', () => crm.webhooks.enable(endpoint.id)],
      ['webhooks.replay', 'consumerBacklog', () => crm.webhooks.replay(endpoint.id, parked!.id)],
      ['events.replay', 'consumerBacklog', () => crm.events.replay('app', [parked!.id])],
      ['webhooks.remove', 'consumer', () => crm.webhooks.remove(other.id)],
      ['events.remove', 'consumer', () => crm.events.remove('app')],
    ];
    for (const [name, entity, call] of calls) {
      state.fault = conflictTimes(entity, 5);
      const outcome = await call().then(() => 'ok', (e: unknown) => (isCrmError(e) ? `${e.code} ${e.message}` : String(e)));
      expect(`${name}: ${outcome}`).toBe(`${name}: ok`);
    }
    state.fault = undefined;
    expect((await crm.webhooks.get(endpoint.id)).status).toBe('enabled');
    expect((await crm.webhooks.list()).map((e) => e.id)).toEqual([endpoint.id]);
    expect((await crm.events.consumers()).map((c) => c.name)).toEqual([`webhook:${endpoint.id}`]);
    // A stale version is the caller's conflict: thrown at once, not retried away.
    await expect(crm.webhooks.update(endpoint.id, { version: 1, description: 'stale' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await crm.close();
  });
});
