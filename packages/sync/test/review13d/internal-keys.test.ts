import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13d D3 (minor): a device command's result, and the row it stores until the next pull, carry core's
 * internal access key `parentOwner` (`"deal:anna"`), which `crm.as(user)` — and the pulled row — never show. The
 * promise of §24 is that a device's results look like `crm.as(user)`'s.
 */
describe('review13d D3: device results have the shape of crm.as results', () => {
  it('activities.log on a deal: no parentOwner in the result nor in the stored row', async () => {
    const o = await office({ deal: { read: { deny: ['value'] } } });
    const d = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    const online = await o.crm.as({ userId: 'anna' }).activities.log({ kind: 'call', dealId: d.id });
    expect('parentOwner' in online).toBe(false);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    const result = (await anna.client.crm.activities.log({ kind: 'call', dealId: d.id } as never)) as { id: string };
    expect(Object.keys(result)).not.toContain('parentOwner');
    expect(Object.keys(await anna.client.crm.activities.get(result.id))).not.toContain('parentOwner');
  });
});
