import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../../src/index.js';
import { replicaOf } from '../../src/client/replica-storage.js';
import { readState, writeState } from '../../src/client/sync-state.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, faultyTransport, own, syncedDevice } from './support.js';

const titles = async (crm: { deals: { list(): Promise<{ items: { title: string }[] }> } }) => (await crm.deals.list()).items.map((d) => d.title).sort();

/** review13 R4, R11: when the server cannot continue a device's sequence, the device takes a new client id and goes on. */
describe('a device whose command sequence the server cannot continue', () => {
  it('server restored from a backup: lost confirmed work is gone everywhere, accepted and new commands are pushed again under a new client id', async () => {
    const a = await serverOf(() => createMemoryStorage());
    const b = await serverOf(() => createMemoryStorage()); // A before the device's commands
    const net = { current: faultyTransport(a.server, 'anna') };
    const dev = await deviceCrm({ user: 'anna', seed: 85 });
    const client = await createSyncClient({ crm: dev.crm, start: false, transport: { push: (x, s) => net.current.transport.push(x, s), pull: (x, s) => net.current.transport.pull(x, s) } });
    const state = () => replicaOf(dev.replica)!.transaction('apply', (tx) => readState(tx, 'acme'));
    await client.syncNow();
    const before = (await state())!.clientId;
    await client.crm.deals.create({ title: 'Confirmed on A', pipelineId: a.pipeline.id });
    await client.syncNow();
    await client.crm.deals.create({ title: 'Accepted by A', pipelineId: a.pipeline.id });
    net.current.faults.blocked = 'pull';
    await expect(client.syncNow()).rejects.toThrow();
    net.current = faultyTransport(b.server, 'anna'); // the office restores yesterday's backup
    await client.crm.deals.create({ title: 'After the restore', pipelineId: a.pipeline.id });
    await client.syncNow();
    expect(await titles(b.crm)).toEqual(['Accepted by A', 'After the restore']);
    expect(await titles(client.crm)).toEqual(['Accepted by A', 'After the restore']);
    expect(client.status()).toMatchObject({ pending: 0, errors: [], state: 'stopped' });
    const after = (await state())!;
    expect(after.clientId).not.toBe(before);
    expect(after.since).toBe(4);
    await client.crm.deals.create({ title: 'Next day', pipelineId: a.pipeline.id });
    await client.syncNow();
    expect(await titles(b.crm)).toContain('Next day');
  });

  it('a database copied to a second machine (same client id): the copy\'s reused seqs are refused, it takes a new id, both devices\' work arrives', async () => {
    const { crm, server, pipeline } = await serverOf(() => createMemoryStorage());
    const one = await syncedDevice(server, { user: 'anna', seed: 86 });
    await one.client.syncNow();
    await one.client.crm.deals.create({ title: 'From one', pipelineId: pipeline.id });
    await one.client.syncNow();
    const cloned = (await one.replica.transaction('r', (tx) => readState(tx, 'acme')))!;
    const copy = await deviceCrm({ user: 'anna', seed: 87 });
    await copy.inner.transaction('rw', (tx) => writeState(tx, 'acme', '2026-01-05T10:00:00.000Z', {}, { ...cloned, checkpoint: null, lastSyncAt: undefined } as never));
    const net = faultyTransport(server, 'anna');
    const two = await createSyncClient({ crm: copy.crm, start: false, transport: net.transport });
    await two.syncNow(); // the copy's data (a copy has what the original had)
    await two.crm.deals.create({ title: 'From the copy', pipelineId: pipeline.id }); // seq 1 again
    await two.syncNow();
    expect(await titles(crm)).toEqual(['From one', 'From the copy']);
    expect(await titles(two.crm)).toEqual(['From one', 'From the copy']);
    expect(two.status()).toMatchObject({ pending: 0, rejected: [], errors: [] });
    expect(await own(copy.inner, 'syncCommand')).toEqual([]);
    await one.client.crm.deals.create({ title: 'One again', pipelineId: pipeline.id });
    await one.client.syncNow();
    expect(await titles(crm)).toEqual(['From one', 'From the copy', 'One again']);
  });
});
