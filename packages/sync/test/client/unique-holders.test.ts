import { createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { describe, expect, it } from 'vitest';
import { createSyncClient, type SyncTransport } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { fakeIndexedDb } from './idb-env.js';
import { deviceCrm, faultyTransport, own, syncedDevice, syncedRows } from './support.js';

/**
 * review13 R8: a pulled row whose unique key (external ref, `EntitySchema.unique`) a stale local record
 * still holds evicts that record's stale copy (live row, shadow base): its newer state comes later in
 * the pull, or it left. The repro is test/review13/unique-across-pages.test.ts.
 */
const ref = (id: string): { externalRefs: { system: string; id: string }[] } => ({ externalRefs: [{ system: 'shop', id }] });

for (const [engine, make] of [['memory', () => createMemoryStorage()], ['sqlite', () => createSqliteStorage({ filename: ':memory:' })], ['IndexedDB (fake)', fakeIndexedDb]] as [string, () => StorageAdapter][]) {
  describe(`a unique key held by a stale local record (device on ${engine})`, () => {
    it('the old holder was deleted after the key moved: its gone tag comes after the new holder', async () => {
      const { crm, server, storage, pipeline } = await serverOf(() => createMemoryStorage());
      const a = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ...ref('1') } as never);
      const anna = await syncedDevice(server, { user: 'anna', seed: 7, inner: make(), pageRows: 1 });
      await anna.client.syncNow();
      await crm.deals.update(a.id, ref('2') as never);
      await crm.deals.create({ title: 'B', pipelineId: pipeline.id, ...ref('1') } as never);
      await crm.deals.remove(a.id);
      await anna.client.syncNow();
      expect(await syncedRows(anna.inner)).toEqual(await syncedRows(storage));
    });

    it('the old holder has a pending local command: its optimistic row and stale base go, the command still applies', async () => {
      const { crm, server, storage } = await serverOf(() => createMemoryStorage());
      const a = await crm.contacts.create({ name: 'A', ...ref('1') } as never);
      const anna = await syncedDevice(server, { user: 'anna', seed: 7, inner: make(), pageRows: 1 });
      await anna.client.syncNow();
      await crm.contacts.update(a.id, ref('2') as never);
      await crm.contacts.create({ name: 'B', ...ref('1') } as never);
      await crm.contacts.update(a.id, { name: 'A2' } as never);
      // The user renames A while the cycle runs: the pull meets a pending command on A (a shadow with the stale base).
      anna.faults.beforePull = async () => void (await anna.client.crm.contacts.update(a.id, { jobTitle: 'CEO' } as never));
      await anna.client.syncNow();
      await anna.client.syncNow();
      expect(anna.client.status().rejected).toEqual([]);
      expect(await crm.contacts.get(a.id)).toMatchObject({ name: 'A2', jobTitle: 'CEO', externalRefs: [{ system: 'shop', id: '2' }] });
      expect(await syncedRows(anna.inner)).toEqual(await syncedRows(storage));
      expect(await own(anna.inner, 'syncShadow')).toEqual([]);
    });

    it('a pull cut after the new holder\'s page: the restart\'s rebase does not restore the stale base beside it', async () => {
      const { crm, server, storage } = await serverOf(() => createMemoryStorage());
      const a = await crm.contacts.create({ name: 'A', ...ref('1') } as never);
      const inner = make();
      const dev = await deviceCrm({ user: 'anna', seed: 7, inner });
      const net = faultyTransport(server, 'anna');
      // Pulls fail from the `cutAt`-th on (the network drops mid-pull).
      let pulls = 0;
      let cutAt = Infinity;
      const transport: SyncTransport = { push: net.transport.push, pull: (body, signal) => (++pulls >= cutAt ? Promise.reject(new TypeError('fetch failed')) : net.transport.pull(body, signal)) };
      const client = await createSyncClient({ crm: dev.crm, transport, start: false, pageRows: 1 });
      await client.syncNow();
      await client.crm.contacts.update(a.id, { jobTitle: 'CEO' } as never); // pending: A's shadow holds its base with shop:1
      await crm.contacts.update(a.id, ref('2') as never);
      await crm.contacts.create({ name: 'B', ...ref('1') } as never);
      await crm.contacts.update(a.id, { name: 'A2' } as never);
      cutAt = pulls + 2; // the first page (B) applies; A's page never arrives
      await expect(client.syncNow()).rejects.toMatchObject({ code: 'STORAGE' });
      await client.stop();
      // Restart on the same database: the start-up rebase restores shadows.
      const again = await deviceCrm({ user: 'anna', seed: 8, inner });
      const reopened = await createSyncClient({ crm: again.crm, transport: net.transport, start: false, pageRows: 1 });
      await reopened.syncNow();
      await reopened.syncNow();
      expect(await crm.contacts.get(a.id)).toMatchObject({ name: 'A2', jobTitle: 'CEO' });
      expect(await syncedRows(inner)).toEqual(await syncedRows(storage));
    });

    it('a local create took a key the server gave another record meanwhile: rejected by the server, the device converges', async () => {
      const { crm, server, storage } = await serverOf(() => createMemoryStorage());
      const anna = await syncedDevice(server, { user: 'anna', seed: 7, inner: make() });
      await anna.client.syncNow();
      await crm.contacts.create({ name: 'B', ...ref('1') } as never);
      // Created while the cycle runs (after its push): the pull brings B while the device's C holds the key.
      anna.faults.beforePull = async () => void (await anna.client.crm.contacts.create({ name: 'C', ...ref('1') } as never));
      await anna.client.syncNow();
      await anna.client.syncNow();
      expect(anna.client.status().rejected).toMatchObject([{ name: 'contacts.create', error: { code: 'CONFLICT' } }]);
      expect(await syncedRows(anna.inner)).toEqual(await syncedRows(storage));
    });
  });
}
