import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { text } from './export-text.js';

/** The error a call throws at once (not on the first read), or undefined. */
function thrownAtCall(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

it('export.run refuses bad mappings and options at the call, as its JSDoc says (review 16f minor)', async () => {
  const { crm } = await createTestCrm();
  await crm.contacts.create({ name: 'Ada', email: 'ada@x.org' });
  const cases: [object, unknown][] = [
    [{ entity: 'contact', mapping: { emial: 'E' } }, { path: ['mapping', 'emial'], code: 'unknown_field' }],
    [{ entity: 'contact', mapping: { name: { column: 'N', as: 'nubmer' } } }, { path: ['mapping', 'name', 'as'], code: 'invalid_value' }],
    [{ entity: 'contact', mapping: { tags: { column: 'T', as: 'date' } } }, { path: ['mapping', 'tags', 'as'], code: 'invalid_value' }],
    [{ entity: 'contact', bom: 'yes' }, { path: ['bom'], code: 'invalid_type' }],
    [{ entity: 'contact', bom: 1 }, { path: ['bom'], code: 'invalid_type' }],
    // Two fields in one column would write "Ada ada@x.org".
    [{ entity: 'contact', mapping: { name: 'N', email: 'N' } }, { path: ['mapping', 'email'], code: 'duplicate_column' }],
    [{ entity: 'deal', mapping: { title: 'T', value: { column: 'V', as: 'money', currencyColumn: 'T' } } }, { path: ['mapping', 'value'], code: 'duplicate_column' }],
    // Money without a currency: no cell could be read back.
    [{ entity: 'deal', mapping: { title: 'T', 'lineItems.name': 'I', 'lineItems.quantity': 'Q', 'lineItems.unitPrice': { column: 'P', as: 'money' } } }, { path: ['mapping', 'lineItems.unitPrice', 'currency'], code: 'required' }],
    [{ entity: 'deal', mapping: { title: 'T', value: { column: 'V', as: 'money' } } }, { path: ['mapping', 'value', 'currency'], code: 'required' }],
  ];
  for (const [options, issue] of cases) {
    expect(thrownAtCall(() => crm.export.run(options as never)), JSON.stringify(options)).toMatchObject({ code: 'VALIDATION', details: { issues: [issue] } });
  }
  // A format or a currency makes money columns fine; a bom of true or false too.
  expect(await text(crm.export.run({ entity: 'contact', bom: false, mapping: { name: 'N' } }))).toBe('"N"\r\n"Ada"\r\n');
  // `custom.<key>` names need the tenant's definitions: refused on the first read.
  await expect(text(crm.export.run({ entity: 'contact', mapping: { 'custom.nope': 'X' } }))).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'custom.nope'], code: 'unknown_field' }] } });
});

it('import refuses a money column without a currency before a row is read (review 16f minor)', async () => {
  const { crm } = await createTestCrm();
  await crm.pipelines.create({ name: 'P', stages: [{ key: 's', name: 'S' }] });
  const mapping = { title: 'T', 'lineItems.name': 'I', 'lineItems.quantity': { column: 'Q', as: 'number' as const }, 'lineItems.unitPrice': { column: 'P', as: 'money' as const } };
  await expect(crm.import.run({ entity: 'deal', key: 'title', rows: [{ T: 'A', I: 'Desk', Q: '1', P: '49.99' }], mapping })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'lineItems.unitPrice', 'currency'], code: 'required' }] } });
  expect((await crm.deals.list()).items).toEqual([]);
});
