import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { text } from './export-text.js';

// fix16l item 2: currency columns are kept apart from field columns (not by a prefixed key in one map), so no column name collides with them.
it('an export mapping keeps currency columns apart: shared by money fields, refused beside a field column, any column name allowed', async () => {
  const { crm } = await createTestCrm();
  await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
  await crm.deals.create({ title: 'Big', value: { amount: 1234, currency: 'EUR' } });
  // A field column spelled like the old internal key of a currency column is its own column.
  const odd = '\u0000Cur';
  expect(await text(crm.export.run({ entity: 'deal', mapping: { value: { column: 'V', as: 'money', currencyColumn: 'Cur' }, title: odd } }))).toBe(`"V","Cur","${odd}"\r\n"12.34","EUR","Big"\r\n`);
  // Money fields share a currency column; a field column and a currency column may not share one, in either order.
  expect(() => crm.export.run({ entity: 'deal', mapping: { title: 'T', value: { column: 'V', as: 'money', currencyColumn: 'C' }, 'lineItems.unitPrice': { column: 'P', as: 'money', currencyColumn: 'C' }, 'lineItems.name': 'N', 'lineItems.quantity': 'Q' } })).not.toThrow();
  for (const mapping of [{ title: 'C', value: { column: 'V', as: 'money', currencyColumn: 'C' } }, { value: { column: 'V', as: 'money', currencyColumn: 'C' }, title: 'C' }]) {
    expect(() => crm.export.run({ entity: 'deal', mapping: mapping as never }), JSON.stringify(mapping)).toThrow(expect.objectContaining({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ code: 'duplicate_column' })] } }));
  }
});
