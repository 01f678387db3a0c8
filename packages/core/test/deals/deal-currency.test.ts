import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertMinor } from '@crmkit/core/reports';
import { crmWithPipeline, expectCrmError, expectUnchanged, issuePaths } from '../helpers.js';

describe('changing a deal\'s currency never relabels the stored integers', () => {
  it('refuses a new currency without new amounts or a rate, and writes nothing', async () => {
    const t = await crmWithPipeline();
    const deal = await t.crm.deals.create({ title: 'Chairs', value: { amount: 1000_00, currency: 'EUR' } });
    const withItems = await t.crm.deals.create({ title: 'Desks', currency: 'EUR', lineItems: [{ name: 'Desk', quantity: 2, unitPrice: 300_00 }] });
    const before = t.storage.snapshot();
    for (const id of [deal.id, withItems.id]) {
      const error = await expectCrmError(t.crm.deals.update(id, { currency: 'JPY' }), 'VALIDATION');
      expect(issuePaths(error)).toEqual(['currency']);
    }
    expect(issuePaths(await expectCrmError(t.crm.deals.update(deal.id, { exchangeRate: 2 }), 'VALIDATION'))).toEqual(['exchangeRate']);
    expect(issuePaths(await expectCrmError(t.crm.deals.update(deal.id, { currency: 'USD', exchangeRate: 1.1, value: { amount: 5, currency: 'USD' } }), 'VALIDATION'))).toEqual(['exchangeRate']);
    expect(issuePaths(await expectCrmError(t.crm.deals.update(deal.id, { currency: 'ABC', value: { amount: 5, currency: 'ABC' } }), 'VALIDATION'))).toEqual(['currency', 'value.currency']);
    expectUnchanged(t, before);
  });

  it('takes new amounts in the new currency', async () => {
    const { crm } = await crmWithPipeline();
    const deal = await crm.deals.create({ title: 'Chairs', value: { amount: 1000_00, currency: 'EUR' } });
    const moved = await crm.deals.update(deal.id, { currency: 'JPY', value: { amount: 160_000, currency: 'JPY' } });
    expect(moved.value).toEqual({ amount: 160_000, currency: 'JPY' });
    expect(moved.weightedValue).toEqual({ amount: 16_000, currency: 'JPY' });
    const viaValue = await crm.deals.update(deal.id, { value: { amount: 9_000, currency: 'KWD' } });
    expect(viaValue.value).toEqual({ amount: 9_000, currency: 'KWD' });
  });

  it('converts the value and every line price with a caller-supplied rate and both ISO exponents', async () => {
    const { crm } = await crmWithPipeline();
    const deal = await crm.deals.create({ title: 'Chairs', value: { amount: 1234_56, currency: 'EUR' } });
    // 1 EUR = 161.2345 JPY: EUR 1234.56 → JPY 199053.66432 → 199054 (JPY has no decimals).
    const yen = await crm.deals.update(deal.id, { currency: 'JPY', exchangeRate: 161.2345 });
    expect(yen.value).toEqual({ amount: 199_054, currency: 'JPY' });
    // 1 JPY = 0.002 KWD: JPY 199054 → KWD 398.108 = 398108 minor units (KWD has three decimals).
    const dinar = await crm.deals.update(deal.id, { currency: 'KWD', exchangeRate: 0.002 });
    expect(dinar.value).toEqual({ amount: 398_108, currency: 'KWD' });

    const items = await crm.deals.create({ title: 'Desks', currency: 'EUR', lineItems: [{ name: 'Desk', quantity: 2, unitPrice: 300_00, discountPercent: 10 }, { name: 'Lamp', quantity: 3, unitPrice: 19_99 }] });
    const usd = await crm.deals.update(items.id, { currency: 'USD', exchangeRate: 1.0843 });
    expect(usd.lineItems.map((l) => [l.unitPrice, l.total])).toEqual([[325_29, 585_52], [21_68, 65_04]]);
    expect(usd.value).toEqual({ amount: 585_52 + 65_04, currency: 'USD' });
    const history = await crm.timeline({ type: 'deal', id: items.id });
    expect(history.items[0]!.type).toBe('deal.updated');
  });

  it('a converted amount is the half-even rounding of the exact product (property)', async () => {
    const { crm } = await crmWithPipeline();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000_000_00 }),
        fc.constantFrom('EUR', 'JPY', 'KWD', 'CLF', 'HUF', 'IQD'),
        fc.constantFrom('USD', 'JPY', 'BHD', 'UYW', 'COP'),
        fc.integer({ min: 1, max: 5_000_000 }).map((n) => n / 10_000),
        async (amount, from, to, rate) => {
          const deal = await crm.deals.create({ title: 'P', value: { amount, currency: from } });
          if (from === to) return;
          const converted = await crm.deals.update(deal.id, { currency: to, exchangeRate: rate });
          expect(converted.value).toEqual({ amount: convertMinor(amount, from, { base: to, rates: { [from]: rate } }), currency: to });
        },
      ),
      { numRuns: 60 },
    );
  });
});
