import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { text } from './export-text.js';
import { csvSource } from '@crmkit/core/csv';


it('exports the money fields the import reads (deal value, lead expectedValue) and reads the file back (review 16e item 5)', async () => {
  const { crm } = await createTestCrm();
  await crm.pipelines.create({ name: 'P', stages: [{ key: 's', name: 'S' }] });
  const mapping = { title: 'T', 'externalRefs.shop': 'R', value: { column: 'V', as: 'money' as const, currency: 'EUR' } };
  await crm.import.run({ entity: 'deal', rows: [{ T: 'Big', R: 'D1', V: '1.234,50' }], mapping, locale: 'de-DE' });
  const csv = await text(crm.export.run({ entity: 'deal', mapping, locale: 'de-DE' }));
  expect(csv.split('\r\n')[1]).toBe('"Big","D1","1234,50"');
  const again = await crm.import.run({ entity: 'deal', csv: csvSource(csv), mapping, locale: 'de-DE', mode: 'upsert', key: 'externalRef:shop' });
  expect(again.rows.map((r) => r.outcome)).toEqual(['skipped']);
  expect((await crm.deals.getByExternalRef('shop', 'D1')).value).toEqual({ amount: 123450, currency: 'EUR' });

  await crm.leads.create({ name: 'L', expectedValue: { amount: 5000, currency: 'USD' } });
  const leads = await text(crm.export.run({ entity: 'lead', mapping: { name: 'N', expectedValue: { column: 'E', as: 'money' as const, currencyColumn: 'C' }, 'expectedValue.amount': 'A' } }));
  expect(leads.replaceAll('"', '').split('\r\n').slice(0, 2)).toEqual(['N,E,C,A', 'L,50.00,USD,5000']);
  await expect(text(() => crm.export.run({ entity: 'deal', mapping: { 'value.cents': 'X' } }))).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'unknown_field' }] } });
});

it('refuses unknown export options, a locale the import refuses and a mapping of only constants, writing nothing (review 16e item 7)', async () => {
  const { crm } = await createTestCrm();
  await crm.contacts.create({ name: 'Ada', email: 'ada@x.org' });
  const refused = async (options: object) => {
    let out = '';
    const error = await (async () => {
      for await (const piece of crm.export.run(options as never)) out += piece;
    })().then(() => undefined, (e: unknown) => e);
    expect(out, JSON.stringify(options)).toBe('');
    return error;
  };
  expect(await refused({ entity: 'contact', filter: {} })).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['filter'], code: 'unknown_field' }] } });
  for (const locale of ['de_DE', 'zz-QQ', 5]) {
    const options = { entity: 'contact', locale, mapping: { name: 'N', createdAt: { column: 'C', as: 'date' } } };
    const imported = await crm.import.run({ ...options, rows: [] } as never).then(() => undefined, (e: unknown) => e);
    expect(await refused(options), String(locale)).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['locale'], code: (imported as { details: { issues: { code: string }[] } }).details.issues[0]!.code }] } });
  }
  for (const mapping of [{ source: { value: 'x' } }, {}]) {
    expect(await refused({ entity: 'contact', mapping }), JSON.stringify(mapping)).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping'], code: 'invalid_value' }] } });
  }
});
