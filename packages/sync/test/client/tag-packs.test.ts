import { createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { describe, expect, it } from 'vitest';
import { loadTags, PACK_SIZE } from '../../src/client/tag-packs.js';
import { exitTag } from '../../src/protocol/exit-tag.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, heldTags, own, syncedDevice, syncedRows } from './support.js';

const tag = (n: number) => `t${String(n).padStart(15, '0')}`;
const rw = <T>(storage: StorageAdapter, fn: (tx: StorageTx) => Promise<T>) => storage.transaction('rw', fn);

/** Rewrites a device's tag packs as WP3/WP4 wrote tags: one row per record, id = the tag. */
async function toPerRecordRows(storage: StorageAdapter): Promise<number> {
  const entries = await heldTags(storage);
  const packs = await own(storage, 'syncTag');
  await rw(storage, async (tx) => {
    await tx.write('syncTag', 'acme', packs.map((p) => ({ type: 'delete' as const, id: p.id })));
    await tx.write('syncTag', 'acme', entries.map((e) => ({ type: 'insert' as const, row: { id: e.tag, tenantId: 'acme', version: 1, entity: e.entity, recordId: e.recordId, epoch: e.epoch } })));
  });
  return entries.length;
}

describe('exit tags in packs (design sync.md §21)', () => {
  it('a pack holds at most PACK_SIZE tags of one epoch; a tag put again is not written again; an emptied pack is deleted; a sweep keeps re-marked tags', async () => {
    const { inner } = await deviceCrm({ user: 'anna', seed: 91 });
    await rw(inner, async (tx) => {
      const index = await loadTags(tx, 'acme');
      for (let i = 0; i <= PACK_SIZE; i++) index.put(tag(i), `deal:d${i}`, 0);
      await index.flush(tx, 'acme');
    });
    expect((await own(inner, 'syncTag')).map((p) => (p.entries as string[]).length).sort()).toEqual([1, PACK_SIZE]);
    const versions = (await own(inner, 'syncTag')).map((p) => p.version);
    await rw(inner, async (tx) => {
      const index = await loadTags(tx, 'acme');
      expect(index.find(tag(7))).toEqual({ entity: 'deal', id: 'd7' });
      for (let i = 0; i <= PACK_SIZE; i++) index.put(tag(i), `deal:d${i}`, 0);
      await index.flush(tx, 'acme');
    });
    expect((await own(inner, 'syncTag')).map((p) => p.version)).toEqual(versions);
    // The lone tag of the second pack leaves: its pack goes; a reset re-marks half of the rest, the sweep returns the others.
    const swept = await rw(inner, async (tx) => {
      const index = await loadTags(tx, 'acme');
      expect(index.drop(tag(PACK_SIZE))).toEqual({ entity: 'deal', id: `d${PACK_SIZE}` });
      expect(index.drop(tag(PACK_SIZE))).toBeUndefined();
      for (let i = 0; i < PACK_SIZE; i += 2) index.put(tag(i), `deal:d${i}`, 1);
      const gone = index.sweep(1);
      await index.flush(tx, 'acme');
      return gone;
    });
    expect(swept.map((r) => r.id).sort()).toEqual(Array.from({ length: PACK_SIZE / 2 }, (_, i) => `d${i * 2 + 1}`).sort());
    const left = await heldTags(inner);
    expect(left).toHaveLength(PACK_SIZE / 2);
    expect(new Set(left.map((e) => e.epoch))).toEqual(new Set([1]));
    expect(await own(inner, 'syncTag')).toHaveLength(1);
  });

  it('per-record tag rows of a WP3/WP4 device are read as tags and moved into packs by the next write', async () => {
    const { inner } = await deviceCrm({ user: 'anna', seed: 92 });
    await rw(inner, (tx) => tx.write('syncTag', 'acme', [0, 1, 2].map((i) => ({ type: 'insert' as const, row: { id: tag(i), tenantId: 'acme', version: 1, entity: 'contact', recordId: `c${i}`, epoch: i ? 2 : 1 } }))));
    const swept = await rw(inner, async (tx) => {
      const index = await loadTags(tx, 'acme');
      expect(index.find(tag(1))).toEqual({ entity: 'contact', id: 'c1' });
      const gone = index.sweep(2);
      await index.flush(tx, 'acme');
      return gone;
    });
    expect(swept).toEqual([{ entity: 'contact', id: 'c0' }]);
    expect((await heldTags(inner)).map((e) => [e.tag, e.recordId, e.epoch])).toEqual([[tag(1), 'c1', 2], [tag(2), 'c2', 2]]);
  });

  it('a record re-sent in a later page keeps one tag; later pulls add to the open pack instead of a row per record', async () => {
    const { crm: server, server: sync, pipeline, storage } = await serverOf(() => createMemoryStorage());
    const deals: { id: string }[] = [];
    for (let i = 0; i < 9; i++) deals.push(await server.deals.create({ title: `Deal ${i}`, pipelineId: pipeline.id }));
    const dev = await syncedDevice(sync, { user: 'anna', seed: 93, pageRows: 4 });
    dev.faults.beforePull = async () => {
      dev.faults.beforePull = async () => void (await server.deals.update(deals[0]!.id, { title: 'Renamed during the sync' }));
    };
    await dev.client.syncNow();
    dev.faults.beforePull = async () => undefined;
    for (let i = 0; i < 3; i++) {
      await server.deals.create({ title: `Later ${i}`, pipelineId: pipeline.id });
      await server.deals.update(deals[1]!.id, { title: `Renamed ${i}` });
      await dev.client.syncNow();
    }
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    const tags = await heldTags(dev.inner);
    expect(tags).toHaveLength(Object.values(await syncedRows(storage)).flat().length);
    expect(new Set(tags.map((t) => t.tag)).size).toBe(tags.length);
    expect(tags.find((t) => t.recordId === deals[0]!.id)?.tag).toBe(await exitTag('acme', 'deal', deals[0]!.id));
    expect(await own(dev.inner, 'syncTag')).toHaveLength(1);
  });

  it('an exit resolves a tag that shares its pack with others: the record and its entry leave, the rest stay', async () => {
    const { crm: server, server: sync, pipeline, storage } = await serverOf(() => createMemoryStorage());
    const deals: { id: string }[] = [];
    for (let i = 0; i < 5; i++) deals.push(await server.deals.create({ title: `Deal ${i}`, pipelineId: pipeline.id }));
    const dev = await syncedDevice(sync, { user: 'anna', seed: 94, pageRows: 3 });
    await dev.client.syncNow();
    const before = await heldTags(dev.inner);
    await server.deals.remove(deals[2]!.id);
    await dev.client.syncNow();
    await expect(dev.crm.deals.get(deals[2]!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    const after = await heldTags(dev.inner);
    expect(after.map((t) => t.tag).sort()).toEqual(before.filter((t) => t.recordId !== deals[2]!.id).map((t) => t.tag).sort());
  });

  it('a device that stored tags one row per record (before packs) resolves an exit through them, and its rows become packs', async () => {
    const { crm: server, server: sync, pipeline, storage } = await serverOf(() => createMemoryStorage());
    const deals: { id: string }[] = [];
    for (let i = 0; i < 6; i++) deals.push(await server.deals.create({ title: `Deal ${i}`, pipelineId: pipeline.id }));
    const dev = await syncedDevice(sync, { user: 'anna', seed: 95, pageRows: 4 });
    await dev.client.syncNow();
    const count = await toPerRecordRows(dev.inner);
    await dev.crm.close();
    // The page reloads with the new code over the old database.
    const dev2 = await syncedDevice(sync, { user: 'anna', seed: 96, pageRows: 4, inner: dev.inner });
    await server.deals.remove(deals[0]!.id);
    await server.deals.update(deals[1]!.id, { title: 'Renamed after the upgrade' });
    await dev2.client.syncNow();
    await expect(dev2.crm.deals.get(deals[0]!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await dev2.crm.deals.get(deals[1]!.id)).title).toBe('Renamed after the upgrade');
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    const tags = await heldTags(dev.inner);
    expect(tags).toHaveLength(count - 1);
    expect(new Set(tags.map((t) => t.tag)).size).toBe(tags.length);
  });

  it('a client keeps its tags in memory only while no one else stored pages: a second tab\'s tags are read before an exit', async () => {
    const { crm: server, server: sync, pipeline, storage } = await serverOf(() => createMemoryStorage());
    await server.deals.create({ title: 'First', pipelineId: pipeline.id });
    const tabA = await syncedDevice(sync, { user: 'anna', seed: 97, pageRows: 4 });
    await tabA.client.syncNow();
    const tabB = await syncedDevice(sync, { user: 'anna', seed: 98, pageRows: 4, inner: tabA.inner });
    const late = await server.deals.create({ title: 'Pulled by tab B', pipelineId: pipeline.id });
    await tabB.client.syncNow();
    await server.deals.remove(late.id);
    await tabA.client.syncNow();
    await expect(tabA.crm.deals.get(late.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await syncedRows(tabA.inner)).toEqual(await syncedRows(storage));
    expect((await heldTags(tabA.inner)).map((t) => t.recordId)).not.toContain(late.id);
  });
});
