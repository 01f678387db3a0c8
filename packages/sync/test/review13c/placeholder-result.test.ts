import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13c C1: a rep who may not read a deal's `value` renames a deal on her device. `client.crm.deals.update`
 * resolves with the placeholder amount (0, in the device's default currency) as the deal's value — the UI that
 * shows the returned deal (the usual `setDeal(await update(...))`) shows "$0" for a 120 000 EUR deal. The docs
 * promise the methods "resolve with the record as the device holds it" and that placeholders are never stored;
 * the device holds the deal without `value`.
 */
describe('review13c: a hidden value on the device', () => {
  it('never reaches the caller as a placeholder amount', async () => {
    const o = await office({ denyDeal: ['value'] });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', value: { amount: 120_000, currency: 'EUR' } });
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    const renamed = await anna.client.crm.deals.update(deal.id, { title: 'Acme GmbH' });
    const held = await anna.crm.deals.get(deal.id);
    expect({ value: renamed.value, weightedValue: renamed.weightedValue }).toEqual({ value: held.value, weightedValue: held.weightedValue });
  });

  it('never reaches crm.on handlers as the won amount', async () => {
    const o = await office({ denyDeal: ['value'] });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', value: { amount: 120_000, currency: 'EUR' } });
    const anna = await device(o.server, 'anna');
    const amounts: unknown[] = [];
    anna.crm.on('deal.won' as never, ((event: { data: { amount?: unknown } }) => amounts.push(event.data.amount)) as never);
    await anna.client.syncNow();
    await anna.client.crm.deals.win(deal.id);
    expect(amounts).toEqual([undefined]); // the device does not know the amount; "0 USD" is a made-up one
  });
});
