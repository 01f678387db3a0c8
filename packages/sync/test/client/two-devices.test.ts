import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { fakeIndexedDb } from './idb-env.js';
import { own, syncedDevice, syncedRows } from './support.js';

const ENGINES: readonly (readonly [string, () => StorageAdapter, (() => StorageAdapter)?])[] = [
  ['memory', () => createMemoryStorage()],
  ['sqlite', () => createSqliteStorage({ filename: ':memory:' })],
  ['sqlite, devices on IndexedDB (fake-indexeddb)', () => createSqliteStorage({ filename: ':memory:' }), fakeIndexedDb],
];

for (const [engine, make, makeDevice = make] of ENGINES) describe(`two devices offline, overlapping changes, reconnect (server and devices on ${engine}, in-process transport)`, () => {
  it('both converge to the server; the losing device reports the rejection and keeps no trace of its command', async () => {
    const { crm: server, server: sync, pipeline, storage } = await serverOf(make);
    const deal = await server.deals.create({ title: 'Acme rollout', pipelineId: pipeline.id, ownerId: 'anna' });
    const a = await syncedDevice(sync, { user: 'anna', seed: 11, inner: makeDevice() });
    const b = await syncedDevice(sync, { user: 'ben', seed: 12, inner: makeDevice() });
    await a.client.syncNow();
    await b.client.syncNow();
    expect((await a.crm.deals.get(deal.id)).stageKey).toBe('new');
    expect(a.client.status()).toMatchObject({ pending: 0, unpushed: 0, rejected: [], errors: [] });

    a.faults.online = false;
    b.faults.online = false;
    const advanced = await a.client.crm.deals.advance(deal.id);
    expect(advanced.stageKey).toBe('proposal');
    const lost = await b.client.crm.deals.lose(deal.id, { reason: 'price' });
    expect(lost.status).toBe('lost');
    const note = await b.client.crm.activities.log({ kind: 'note', dealId: deal.id, body: 'Customer chose a rival' });
    await expect(b.client.syncNow()).rejects.toMatchObject({ code: 'STORAGE', details: { retryable: true } });
    expect(b.client.status()).toMatchObject({ state: 'offline', pending: 2, unpushed: 2, errors: [{ code: 'STORAGE' }] });
    expect((await b.crm.deals.get(deal.id)).status).toBe('lost');

    a.faults.online = true;
    await a.client.syncNow();
    b.faults.online = true;
    await b.client.syncNow();
    await a.client.syncNow();

    const truth = await syncedRows(storage);
    expect((await server.deals.get(deal.id)).stageKey).toBe('proposal');
    for (const dev of [a, b]) {
      expect(await syncedRows(dev.inner)).toEqual(truth);
      expect(await own(dev.inner, 'syncShadow')).toEqual([]);
    }
    // The note was logged after the lose, against the state B saw: the server accepted it (not versioned).
    expect(truth.activity!.map((r) => r.id)).toEqual([note.id]);
    expect(a.client.status()).toMatchObject({ state: 'idle', pending: 0, unpushed: 0, rejected: [] });
    const status = b.client.status();
    expect(status).toMatchObject({ pending: 0, unpushed: 0, errors: [] });
    expect(status.rejected).toMatchObject([{ seq: 1, name: 'deals.lose', args: [deal.id, { reason: 'price', version: 1 }], error: { code: 'CONFLICT' } }]);
    expect(b.client.status()).toBe(status); // referentially stable while nothing changes
    await b.client.dismiss([1]);
    expect(b.client.status().rejected).toEqual([]);
    expect(await own(b.inner, 'syncCommand')).toEqual([]);
  });
});
