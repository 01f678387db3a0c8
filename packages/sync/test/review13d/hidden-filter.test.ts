import { where } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13d D8 (minor): a read that filters on a field the user may not read is `FORBIDDEN` online
 * ("anna may not read value of deal"); on her device `client.crm.deals.list` answers an empty page, which a UI shows
 * as "no deals over 1,000" — a wrong answer instead of the refusal `crm.as(user)` gives.
 */
describe('review13d D8: device reads refuse filters on hidden fields like crm.as', () => {
  it('deals.list where value.amount > 1000', async () => {
    const o = await office({ deal: { read: { deny: ['value'] } } });
    await o.crm.deals.create({ title: 'Big', pipelineId: o.sales.id, ownerId: 'anna', value: { amount: 5000, currency: 'EUR' } });
    const query = { where: where.gt('value.amount', 1000) } as never;
    await expect(o.crm.as({ userId: 'anna' }).deals.list(query)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    await expect(anna.client.crm.deals.list(query)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
