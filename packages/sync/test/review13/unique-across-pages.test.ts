import { createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice, syncedRows } from '../client/support.js';

/**
 * review13: a unique key (external ref) that moved from record A to record B in one transaction, and A changed
 * again later: A's change row moved after B's, so a pull can bring B (with the key) while the device still holds
 * A with it — on another page than A's new row.
 */
for (const [engine, make] of [['memory', () => createMemoryStorage()], ['sqlite', () => createSqliteStorage({ filename: ':memory:' })]] as [string, () => StorageAdapter][]) {
  describe(`review13: a unique key moving between records across pull pages (device on ${engine})`, () => {
    it('the device pulls B (key moved to it) before A\'s later change, and converges', async () => {
      const { crm, server: sync, storage } = await serverOf(() => createMemoryStorage());
      const a = await crm.contacts.create({ name: 'A', externalRefs: [{ system: 'shop', id: '1' }] } as never);
      const anna = await syncedDevice(sync, { user: 'anna', seed: 7, inner: make(), pageRows: 1 });
      await anna.client.syncNow();
      await crm.contacts.update(a.id, { externalRefs: [{ system: 'shop', id: '2' }] } as never);
      await crm.contacts.create({ name: 'B', externalRefs: [{ system: 'shop', id: '1' }] } as never);
      await crm.contacts.update(a.id, { name: 'A2' } as never);
      await anna.client.syncNow();
      expect(await syncedRows(anna.inner)).toEqual(await syncedRows(storage));
    });
  });
}
