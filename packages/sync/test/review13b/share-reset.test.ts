import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { scopedServer } from '../server/scope-support.js';
import { syncedDevice } from '../client/support.js';

/**
 * review13b B4 (scale): the per-principal fingerprint hashes the compiled read filters, and a filter gets its
 * "shared with me" branch only once something of that entity was shared with the principal (share marks).
 * So the first deal shared with Anna — one record — makes her device re-download its whole scope; a share to a
 * team resets every member's device.
 */
describe('review13b: sharing one deal with Anna', () => {
  it('brings that deal (and its children) without a reset of her device', async () => {
    const { crm, server, pipeline } = await scopedServer(() => createMemoryStorage());
    for (let i = 0; i < 5; i++) await crm.deals.create({ title: `Anna ${i}`, pipelineId: pipeline.id, ownerId: 'anna' });
    const bens = await crm.deals.create({ title: 'Ben', pipelineId: pipeline.id, ownerId: 'ben' });
    const dev = await syncedDevice(server, { user: 'anna', seed: 134 });
    await dev.client.syncNow();
    dev.faults.pulls.length = 0;
    await crm.access.share({ type: 'deal', id: bens.id }, { userId: 'anna', access: 'read' });
    await dev.client.syncNow();
    expect((await dev.crm.deals.list()).items.map((d) => d.title)).toContain('Ben');
    expect(dev.faults.pulls.map((p) => ({ reset: p.reset, rows: p.rows.length }))).toEqual([{ reset: undefined, rows: expect.any(Number) }]);
    expect(dev.faults.pulls[0]!.rows.length).toBeLessThan(5);
  });
});
