import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';
import { text } from './export-text.js';

const orderMapping = {
  title: 'Customer',
  'externalRefs.shop': 'Order',
  'lineItems.name': 'Item',
  'lineItems.quantity': { column: 'Qty', as: 'number' as const },
  'lineItems.unitPrice': { column: 'Price', as: 'money' as const, currencyColumn: 'Cur' },
};
const run = { entity: 'deal' as const, key: 'externalRef:shop', mode: 'upsert' as const, locale: 'de-DE' };

it('re-imports exported deals with line items, with and without value mapped: the derived value is accepted, another refused (review 16f item 6)', async () => {
  const { crm } = await createTestCrm();
  await crm.pipelines.create({ name: 'Orders', stages: [{ key: 'placed', name: 'Placed' }] });
  await crm.deals.create({ title: 'Yen', currency: 'JPY', externalRefs: [{ system: 'shop', id: '5003' }], lineItems: [{ name: 'Tea', quantity: 2, unitPrice: 1500 }] });
  await crm.deals.create({ title: 'Dollar', currency: 'USD', externalRefs: [{ system: 'shop', id: '5004' }], lineItems: [{ name: 'Lamp', quantity: 1, unitPrice: 4999 }, { name: 'Bulb', quantity: 3, unitPrice: 250 }] });
  const stored = async () => (await crm.deals.list()).items.map((d) => [d.title, d.value, d.version]);
  const before = await stored();
  for (const mapping of [orderMapping, { ...orderMapping, value: { column: 'Total', as: 'money' as const, currencyColumn: 'Cur' } }]) {
    const csv = await text(crm.export.run({ entity: 'deal', mapping, locale: 'de-DE', separator: ';' }));
    const again = await crm.import.run({ ...run, mapping, csv: csvSource(csv) });
    expect(again.counts, JSON.stringify(again.rows)).toEqual({ created: 0, updated: 0, skipped: 3, failed: 0 });
    expect(await stored()).toEqual(before);
  }
  // A value the lines do not derive: the row fails naming the rule, nothing changes.
  const mapping = { title: 'T', 'externalRefs.shop': 'R', value: { column: 'V', as: 'money' as const, currencyColumn: 'C' } };
  const wrong = await crm.import.run({ ...run, mapping, rows: [{ T: 'Yen', R: '5003', V: '3001', C: 'JPY' }, { T: 'Dollar', R: '5004', V: '57,49', C: 'EUR' }, { T: 'Yen', R: '5005', V: '3000', C: 'JPY' }] });
  expect(wrong.rows.slice(0, 2).map((r) => [r.outcome, r.issues?.[0]?.message])).toEqual([
    ['failed', 'the value of a deal with line items is derived from them'],
    ['failed', 'the value of a deal with line items is derived from them'],
  ]);
  // The same value the lines derive is accepted through a single row too (no lines in the row).
  const same = await crm.import.run({ ...run, mapping, rows: [{ T: 'Yen', R: '5003', V: '3000', C: 'JPY' }] });
  expect(same.rows.map((r) => r.outcome)).toEqual(['skipped']);
  expect((await stored()).slice(0, 2)).toEqual(before);
});
