import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

async function run(pieces: AsyncIterable<string>): Promise<{ out: string; error?: unknown }> {
  let out = '';
  try {
    for await (const piece of pieces) out += piece;
    return { out };
  } catch (error) {
    return { out, error };
  }
}

it('fails typed instead of relabelling an amount in another currency than the mapping fixes (review 16f item 1)', async () => {
  const { crm } = await createTestCrm();
  await crm.pipelines.create({ name: 'P', stages: [{ key: 's', name: 'S' }] });
  await crm.leads.create({ name: 'L', expectedValue: { amount: 4999, currency: 'USD' } });
  const lead = await run(crm.export.run({ entity: 'lead', mapping: { name: 'N', expectedValue: { column: 'E', as: 'money', currency: 'EUR' } } }));
  expect(lead.error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'expectedValue', 'currency'], code: 'currency_mismatch' }] } });
  expect(lead.out).not.toContain('49.99');
  // The same currency (any case) exports; a currencyColumn keeps each record's own.
  expect((await run(crm.export.run({ entity: 'lead', mapping: { name: 'N', expectedValue: { column: 'E', as: 'money', currency: 'usd' } } }))).out.replaceAll('"', '').split('\r\n')[1]).toBe('L,49.99');

  await crm.deals.create({ title: 'Dollar', lineItems: [{ name: 'Desk', quantity: 1, unitPrice: 4999 }], currency: 'USD' } as never);
  const lines = { title: 'T', 'lineItems.name': 'Item', 'lineItems.quantity': { column: 'Q', as: 'number' as const }, 'lineItems.unitPrice': { column: 'P', as: 'money' as const, currency: 'EUR' } };
  const deal = await run(crm.export.run({ entity: 'deal', mapping: lines }));
  expect(deal.error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'lineItems.unitPrice', 'currency'], code: 'currency_mismatch' }] } });
  expect(deal.out).not.toContain('49.99');
  const value = await run(crm.export.run({ entity: 'deal', mapping: { title: 'T', value: { column: 'V', as: 'money', currency: 'EUR' } } }));
  expect(value.error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'currency_mismatch' }] } });
});
