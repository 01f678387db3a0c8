import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
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
