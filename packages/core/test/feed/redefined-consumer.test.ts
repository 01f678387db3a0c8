import { describe, expect, it, vi } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, type Logger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';

describe('a consumer removed and defined anew', () => {
  it('stops runners of the old definition (another process): they never handle the new consumer’s events', async () => {
    const storage = createMemoryStorage();
    const errors: unknown[] = [];
    const logger: Logger = { ...silentLogger, error: (_message, meta) => void errors.push((meta as { error?: unknown } | undefined)?.error) };
    const a = await createCrm({ storage, tenantId: 'acme', features: [events()], closeStorage: false, logger: silentLogger });
    const b = await createCrm({ storage, tenantId: 'acme', features: [events()], closeStorage: false, logger });
    const oldSeen: string[] = [];
    const newSeen: string[] = [];
    const oldDrain = await b.events.consume('sync', (e) => void oldSeen.push(e.type), { start: false, partitions: 8 });
    const oldLoop = await b.events.consume('sync', (e) => void oldSeen.push(e.type), { partitions: 8, pollMs: 5 }); // running in the background
    await a.events.remove('sync'); // a deploy: process A defines it anew
    const fresh = await a.events.consume('sync', (e) => void newSeen.push(e.type), { start: false, partitions: 2, types: ['contact.updated'] });
    const c = await a.contacts.create({ name: 'Ada' });
    await a.contacts.update(c.id, { version: c.version, jobTitle: 'x' });
    await expect(oldDrain.drain()).rejects.toMatchObject({ code: 'CONFLICT', details: { entity: 'consumer', id: 'sync', reason: 'redefined' } });
    await vi.waitFor(() => expect(oldLoop.running).toBe(false));
    expect(errors).toEqual([expect.objectContaining({ code: 'CONFLICT', details: expect.objectContaining({ reason: 'redefined' }) })]);
    expect(await fresh.drain()).toMatchObject({ handled: 1 });
    expect(oldSeen).toEqual([]);
    expect(newSeen).toEqual(['contact.updated']);
    expect(await a.events.status('sync')).toMatchObject({ handled: 1, lag: 0, types: ['contact.updated'] });
    await a.close();
    await b.close();
  });

  it('keeps runners of the same definition working across processes', async () => {
    const storage = createMemoryStorage();
    const a = await createCrm({ storage, tenantId: 'acme', features: [events()], closeStorage: false, logger: silentLogger });
    const b = await createCrm({ storage, tenantId: 'acme', features: [events()], closeStorage: false, logger: silentLogger });
    const seen: string[] = [];
    const first = await a.events.consume('sync', (e) => void seen.push(`a:${e.type}`), { start: false, partitions: 1 });
    const second = await b.events.consume('sync', (e) => void seen.push(`b:${e.type}`), { start: false, partitions: 1 });
    await a.contacts.create({ name: 'Ada' });
    await second.drain();
    await b.contacts.create({ name: 'Grace' });
    await first.drain();
    expect(seen).toEqual(['b:contact.created', 'a:contact.created']);
    await a.close();
    await b.close();
  });
});
