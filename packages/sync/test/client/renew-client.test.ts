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
    expect(client.status()).toMatchObject({ pending: 0, errors: [], state: 'idle' });
    const after = (await state())!;
    expect(after.clientId).not.toBe(before);
    expect(after.since).toBe(4);
    // A UI can tell the user (not only the log): kept across restarts until dismissed.
    expect(client.status().renewed).toMatchObject({ clientId: after.clientId, message: expect.stringMatching(/restored from a backup/) });
    const reopened = await createSyncClient({ crm: dev.crm, start: false, transport: { push: (x, s) => net.current.transport.push(x, s), pull: (x, s) => net.current.transport.pull(x, s) } });
    expect(reopened.status().renewed).toEqual(client.status().renewed);
    await reopened.dismiss([], { renewed: true });
    expect(reopened.status().renewed).toBeUndefined();
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

describe('a device database restored from a backup taken while a push was unanswered', () => {
  it('its retried command gets its verdict, its reused seq is renumbered under a new client id: nothing lost, nothing twice', async () => {
    const { createSqliteStorage } = await import('@crmkit/storage-sqlite');
    const { mkdtempSync, copyFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'crmkit-renew-'));
    const { crm, server, pipeline } = await serverOf(() => createMemoryStorage());
    const open = async (file: string, seed: number) => {
      const dev = await deviceCrm({ user: 'anna', seed, inner: createSqliteStorage({ filename: join(dir, file) }) });
      const net = faultyTransport(server, 'anna');
      return { ...dev, ...net, client: await createSyncClient({ crm: dev.crm, start: false, transport: net.transport }) };
    };
    const one = await open('one.db', 88);
    await one.client.syncNow();
    await one.client.crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    one.faults.loseResponses = 1; // the server applies seq 1; the device never hears
    await expect(one.client.syncNow()).rejects.toThrow();
    await one.client.stop();
    await one.crm.close();
    await one.inner.close();
    copyFileSync(join(dir, 'one.db'), join(dir, 'backup.db'));
    const again = await open('one.db', 89);
    await again.client.crm.deals.create({ title: 'B', pipelineId: pipeline.id }); // seq 2
    await again.client.syncNow();
    const restored = await open('backup.db', 90);
    await restored.client.crm.deals.create({ title: 'C', pipelineId: pipeline.id }); // seq 2 again
    await restored.client.syncNow();
    expect(await titles(crm)).toEqual(['A', 'B', 'C']);
    // [1, 2] refused at 2 (409), [1] answered (a retry), [2] refused, then renumbered 3 under a new client id.
    const pushes = restored.faults.sent.filter((r) => r.route === 'push').map((r) => r.body as { clientId: string; commands: { seq: number }[]; since?: number });
    expect(pushes.map((p) => p.commands.map((c) => c.seq))).toEqual([[1, 2], [1], [2], [3]]);
    expect([pushes[3]!.since, pushes[3]!.clientId === pushes[0]!.clientId]).toEqual([3, false]);
    expect(await titles(restored.client.crm)).toEqual(['A', 'B', 'C']);
    expect(restored.client.status()).toMatchObject({ pending: 0, rejected: [], errors: [] });
    await again.client.syncNow();
    expect(await titles(again.client.crm)).toEqual(['A', 'B', 'C']);
    rmSync(dir, { recursive: true, force: true });
  });
});
