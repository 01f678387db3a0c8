import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { scopedServer } from '../server/scope-support.js';
import { syncedDevice, syncedRows } from '../client/support.js';

/** review13: "a record that leaves the scope (reassigned, share revoked, deleted) is removed from the device". */
describe('review13: a revoked share takes the shared deal\'s children off the device', () => {
  it('deal shared with Anna, then unshared: its stage visits, tasks and activities leave her device too', async () => {
    const { crm, server: sync, pipeline } = await scopedServer(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Bens', pipelineId: pipeline.id, ownerId: 'ben', nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } } as never);
    await crm.activities.log({ kind: 'note', dealId: deal.id, body: 'Met' } as never);
    await crm.deals.advance(deal.id);
    await crm.access.share({ type: 'deal', id: deal.id }, { userId: 'anna', access: 'read' });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 3 });
    await anna.client.syncNow();
    const held = await syncedRows(anna.inner);
    expect(held.deal!.map((r) => r.id)).toEqual([deal.id]);
    expect(held.stageVisit!.length).toBeGreaterThan(0);
    expect(held.activity!.length).toBe(1);

    await crm.access.unshare({ type: 'deal', id: deal.id }, { userId: 'anna' });
    // What Anna may read now, straight from the server.
    const view = crm.as({ userId: 'anna' });
    const readable = { deal: (await view.deals.list()).items.length, activity: (await view.activities.list()).items.length };
    await anna.client.syncNow();
    const after = await syncedRows(anna.inner);
    expect({ deal: after.deal!.length, activity: after.activity!.length }).toEqual(readable);
    expect(after.stageVisit!.filter((v) => (v as { dealId?: string }).dealId === deal.id)).toEqual([]);
  });
});
