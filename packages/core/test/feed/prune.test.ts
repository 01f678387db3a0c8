import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import type { StorageTx } from '@crmkit/core/storage';
import { createFakeClock, createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

const noop = () => undefined;

describe('change feed: pruning', () => {
  it('a prune by types does not mark other types’ stored events as pruned', async () => {
    const { crm } = await createTestCrm();
    const a = await crm.contacts.create({ name: 'A' }); // 1 contact.created
    await crm.contacts.update(a.id, { version: a.version, jobTitle: 'CEO' }); // 2 contact.updated
    await crm.contacts.create({ name: 'B' }); // 3 contact.created
    const all = await crm.events.consume('all', noop, { start: false });
    await all.drain();
    expect(await crm.events.prune({ types: ['contact.created'] })).toEqual({ deleted: 2, through: 3 });
    const page = await crm.events.read();
    expect(page.events.map((e) => [e.position, e.type])).toEqual([[2, 'contact.updated']]);
    // Event 1 is gone, event 2 is still stored: a reader at 0 missed only position 1.
    expect(page.prunedThrough).toBe(1);
    expect(page.head).toBe(3);
    // Pruning the rest moves the mark over everything.
    expect(await crm.events.prune()).toEqual({ deleted: 1, through: 3 });
    expect((await crm.events.read()).prunedThrough).toBe(3);
  });

  it('head() does not go backwards after a full prune, and the next event comes after it', async () => {
    const { crm } = await createTestCrm();
    for (const name of ['A', 'B', 'C']) await crm.contacts.create({ name });
    const all = await crm.events.consume('all', noop, { start: false });
    await all.drain();
    expect(await crm.events.prune()).toEqual({ deleted: 3, through: 3 });
    expect(await crm.events.head()).toBe(3);
    expect(await crm.events.read()).toMatchObject({ events: [], head: 3, position: 3, prunedThrough: 3 });
    await crm.contacts.create({ name: 'D' });
    expect(await crm.events.head()).toBe(4);
    const page = await crm.events.read();
    expect(page.events.map((e) => e.position)).toEqual([4]);
    await all.drain();
    expect(await all.status()).toMatchObject({ position: 4, lag: 0, handled: 4 });
  });

  it('head() keeps the newest position when a types prune deleted the newest events', async () => {
    const { crm } = await createTestCrm();
    const a = await crm.contacts.create({ name: 'A' }); // 1
    await crm.contacts.update(a.id, { version: a.version, jobTitle: 'CEO' }); // 2
    const all = await crm.events.consume('all', noop, { start: false });
    await all.drain();
    await crm.events.prune({ types: ['contact.updated'] });
    expect(await crm.events.head()).toBe(2);
    expect((await crm.events.read()).prunedThrough).toBe(0);
  });

  it('refuses a prune without through when no consumer exists, and writes nothing', async () => {
    const { crm, storage } = await createTestCrm();
    for (const name of ['A', 'B']) await crm.contacts.create({ name });
    const before = storage.snapshot();
    const error = await expectCrmError(crm.events.prune(), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['through']);
    await expectCrmError(crm.events.prune({ types: ['contact.created'] }), 'VALIDATION');
    expect(storage.snapshot()).toEqual(before);
    expect(await crm.events.prune({ through: 1 })).toEqual({ deleted: 1, through: 1 });
    expect((await crm.events.read()).events.map((e) => e.position)).toEqual([2]);
  });
});

describe('prune racing consumers defined meanwhile', () => {
  it('a consumer created after prune read its bound (before the deletes) holds the rest back; it sees every event', async () => {
    const inner = createMemoryStorage();
    let afterBound: (() => Promise<void>) | undefined;
    const storage = new Proxy(inner, {
      get(target, key) {
        if (key === 'transaction') {
          return async (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => {
            let boundRead = false;
            const result = await target.transaction(mode, (tx) =>
              fn(new Proxy(tx, {
                get(t, k) {
                  // Prune reads its bound from the consumer rows (a query; an aggregate in older versions).
                  if (k === 'aggregate' || k === 'query') return (entity: string, ...rest: unknown[]) => ((boundRead ||= entity === 'consumer'), (t[k] as (...a: unknown[]) => unknown).call(t, entity, ...rest));
                  const value = Reflect.get(t, k) as unknown;
                  return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
                },
              })),
            );
            if (boundRead && afterBound) {
              const run = afterBound;
              afterBound = undefined;
              await run();
            }
            return result;
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as StorageAdapter;
    const clock = createFakeClock();
    const a = await createCrm({ storage, clock, tenantId: 't', features: [events()], closeStorage: false });
    const b = await createCrm({ storage: inner, clock, tenantId: 't', features: [events()], closeStorage: false });
    for (let i = 0; i < 5; i++) await a.contacts.create({ name: `C${i}` });
    const total = (await a.events.read({ limit: 1000 })).events.length;
    await (await a.events.consume('old', () => undefined, { start: false })).drain();
    const seen: string[] = [];
    afterBound = async () => void (await b.events.consume('new', (event) => void seen.push(event.id), { start: false, from: 'beginning' }));
    const report = await a.events.prune();
    expect(report).toEqual({ deleted: 0, through: 0 });
    await (await b.events.consume('new', (event) => void seen.push(event.id), { start: false, from: 'beginning' })).drain();
    expect(seen).toHaveLength(total);
    await a.close();
    await b.close();
  });

  it('refuses a new consumer starting below the pruned part of the feed (it would skip events silently)', async () => {
    const { crm } = await createTestCrm({ features: [events()] });
    for (let i = 0; i < 5; i++) await crm.contacts.create({ name: `C${i}` });
    await crm.events.prune({ through: 4 });
    await expect(crm.events.consume('late', () => undefined, { start: false, from: 2 })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ path: ['from'] })] } });
    await expect(crm.events.consume('edge', () => undefined, { start: false, from: 4 })).resolves.toBeDefined();
    await expect(crm.events.consume('start', () => undefined, { start: false, from: 'beginning' })).resolves.toBeDefined();
    await crm.close();
  });
});
