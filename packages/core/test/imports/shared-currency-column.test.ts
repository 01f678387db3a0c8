import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';
import { text } from './export-text.js';

async function run(pieces: () => AsyncIterable<string>): Promise<{ out: string; error?: unknown }> {
  let out = '';
  try {
    for await (const piece of pieces()) out += piece;
    return { out };
  } catch (error) {
    return { out, error };
  }
}

it('refuses a record whose money fields sharing one currencyColumn differ in currency, relabelling nothing (review 16g #2)', async () => {
  const { crm } = await createTestCrm();
  await crm.customFields.define({ entity: 'contact', key: 'budget', label: 'Budget', type: 'money' });
  await crm.customFields.define({ entity: 'contact', key: 'limit', label: 'Limit', type: 'money' });
  await crm.contacts.create({ name: 'Same', email: 's@x.org', custom: { budget: { amount: 1500, currency: 'EUR' }, limit: { amount: 700, currency: 'EUR' } } });
  const mapping = { email: 'E', 'custom.budget': { column: 'B', as: 'money' as const, currencyColumn: 'C' }, 'custom.limit': { column: 'L', as: 'money' as const, currencyColumn: 'C' } };
  // One currency: the shared column exports and reads back.
  const csv = await text(crm.export.run({ entity: 'contact', mapping }));
  expect(csv.replaceAll('"', '').split('\r\n')[1]).toBe('s@x.org,15.00,EUR,7.00');
  expect((await crm.import.run({ entity: 'contact', mode: 'update', key: 'email', csv: csvSource(csv), mapping })).counts.failed).toBe(0);

  const { crm: other } = await createTestCrm();
  await other.customFields.define({ entity: 'contact', key: 'budget', label: 'Budget', type: 'money' });
  await other.customFields.define({ entity: 'contact', key: 'limit', label: 'Limit', type: 'money' });
  await other.contacts.create({ name: 'Mixed', email: 'm@x.org', custom: { budget: { amount: 1500, currency: 'JPY' }, limit: { amount: 700, currency: 'EUR' } } });
  for (const format of ['csv', 'json'] as const) {
    const mixed = await run(() => other.export.run({ entity: 'contact', mapping, format }));
    expect(mixed.error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'custom.limit', 'currencyColumn'], code: 'currency_mismatch' }] } });
    expect(mixed.out).not.toContain('EUR');
  }
  expect((await other.contacts.list()).items[0]!.custom).toEqual({ budget: { amount: 1500, currency: 'JPY' }, limit: { amount: 700, currency: 'EUR' } });
});

it('refuses a currencyColumn that is the field\'s own column, on export and import (review 16g #2)', async () => {
  const { crm } = await createTestCrm();
  await crm.pipelines.create({ name: 'P', stages: [{ key: 's', name: 'S' }] });
  const mapping = { title: 'T', value: { column: 'V', as: 'money' as const, currencyColumn: 'V' } };
  const issue = { code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'value'], code: 'duplicate_column' }] } };
  await expect(text(() => crm.export.run({ entity: 'deal', mapping }))).rejects.toMatchObject(issue);
  await expect(crm.import.run({ entity: 'deal', rows: [{ T: 'x', V: '12' }], mapping })).rejects.toMatchObject(issue);
  // Another field's column is refused on export (either order).
  await expect(text(() => crm.export.run({ entity: 'deal', mapping: { title: 'T', value: { column: 'V', as: 'money', currencyColumn: 'T' } } }))).rejects.toMatchObject({ details: { issues: [{ code: 'duplicate_column' }] } });
  expect((await crm.deals.list()).items).toEqual([]);
});
