import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from '../client/support.js';

/**
 * review13: versioned commands carry "the version of the record the user saw". When a device's earlier
 * command on a record is rejected, the later ones carry a version the device predicted (its own optimistic
 * write) — and a concurrent server write can produce the very same number.
 */
describe('review13: a rejected command\'s successor carries a predicted version', () => {
  it('Anna loses then reopens (undo); Ben wins meanwhile: Anna\'s reopen must not reopen Ben\'s won deal', async () => {
    const { crm, server: sync, pipeline } = await serverOf(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 1 });
    await anna.client.syncNow();
    anna.faults.online = false;
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' }); // carries version 1
    await anna.client.crm.deals.reopen(deal.id, { toStage: 'new' }); // carries version 2: Anna's own prediction

    await crm.as({ userId: 'ben' }).deals.win(deal.id); // server: version 1 → 2, won

    anna.faults.online = true;
    await anna.client.syncNow();
    const rejected = anna.client.status().rejected.map((r) => [r.name, r.error.code]);
    expect(rejected[0]).toEqual(['deals.lose', 'CONFLICT']);
    // Anna never saw the win: her reopen (meant to undo her own lose) must be refused too.
    expect((await crm.deals.get(deal.id)).status).toBe('won');
  });
});
