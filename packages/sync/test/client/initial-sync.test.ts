import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { heldTags, own, syncedDevice, syncedRows } from './support.js';

/** The initial sync's fast path (design sync.md §14, §18): a new device reads no tags or shadows per record, the next page is fetched while one applies. */
describe('initial sync of a new device', () => {
  it('a record changed on the server during the sync comes again in a later page: replaced, not inserted twice', async () => {
    const { crm: server, server: sync, pipeline, storage } = await serverOf(() => createMemoryStorage());
    const deals: { id: string }[] = [];
    for (let i = 0; i < 12; i++) deals.push(await server.deals.create({ title: `Deal ${i}`, pipelineId: pipeline.id }));
    const dev = await syncedDevice(sync, { user: 'anna', seed: 31, pageRows: 5 });
    // Pull 1 is sent as is; just before pull 2 goes out (fetched ahead, while page 1 applies) the server changes a deal of page 1.
    dev.faults.beforePull = async () => {
      dev.faults.beforePull = async () => void (await server.deals.update(deals[0]!.id, { title: 'Renamed during the sync' }));
    };
    await dev.client.syncNow();
    expect(dev.faults.pulls.length).toBeGreaterThan(3);
    expect(dev.faults.pulls.filter((p) => p.rows.some((r) => r.row.id === deals[0]!.id))).toHaveLength(2);
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    expect((await dev.crm.deals.get(deals[0]!.id)).title).toBe('Renamed during the sync');
    const tags = await heldTags(dev.inner);
    expect(new Set(tags.map((t) => t.recordId)).size).toBe(tags.length);
  });

  it('pending commands made before the first sync keep their shadows through it (the shadow probe finds them)', async () => {
    const { crm: server, server: sync, pipeline, storage } = await serverOf(() => createMemoryStorage());
    for (let i = 0; i < 6; i++) await server.contacts.create({ name: `Contact ${i}` });
    const deal = await server.deals.create({ title: 'Known', pipelineId: pipeline.id });
    const dev = await syncedDevice(sync, { user: 'anna', seed: 32, pageRows: 3 });
    const mine = await dev.client.crm.contacts.create({ name: 'Made offline before the first sync' });
    await dev.client.syncNow();
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    expect((await server.contacts.get(mine.id)).name).toBe('Made offline before the first sync');
    expect((await dev.crm.deals.get(deal.id)).title).toBe('Known');
    expect(await own(dev.inner, 'syncShadow')).toEqual([]);
  });
});
