import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { text } from './export-text.js';

const AS = ['text', 'number', 'integer', 'money', 'date', 'datetime', 'boolean', 'list'] as const;
/**
 * What a record holds at a path → the `as` that write it so that the import reads the value back (independent of
 * the code's own table; review 16g: `text` of a number read back a string, `date` of an instant lost its time).
 */
const WRITES: Record<string, readonly string[]> = {
  text: ['text'],
  number: ['number', 'integer'],
  minor: ['number', 'integer', 'money'],
  money: ['money'],
  time: ['text', 'datetime'],
  date: ['text', 'date'],
  boolean: ['boolean'],
  list: ['list'],
  ref: ['text', 'list'],
  object: [],
};
/** entity → field → kind; each field holds a value in the records below. */
const FIELDS: Record<string, Record<string, string>> = {
  contact: { name: 'text', email: 'text', tags: 'list', createdAt: 'time', 'externalRefs.shop': 'ref', 'custom.vat': 'text', 'custom.rev': 'number', 'custom.since': 'date', 'custom.budget': 'money', 'custom.vip': 'boolean', 'custom.areas': 'list' },
  deal: { title: 'text', value: 'money', 'value.amount': 'number', 'value.currency': 'text', probability: 'number', expectedCloseDate: 'date', probabilityManual: 'boolean', 'lineItems.name': 'text', 'lineItems.quantity': 'number', 'lineItems.unitPrice': 'minor' },
  lead: { expectedValue: 'money', probability: 'number', tags: 'list' },
  activity: { subject: 'text', occurredAt: 'time', durationMinutes: 'number', participants: 'object' },
  task: { subject: 'text', dueAt: 'time', allDay: 'boolean', postponeCount: 'number' },
};

it('checks every column\'s `as` against the field\'s kind before writing a line, and writes no NaN (review 16f item 5)', async () => {
  const { crm } = await createTestCrm();
  for (const [key, type] of [['vat', 'text'], ['rev', 'number'], ['since', 'date'], ['budget', 'money'], ['vip', 'boolean'], ['areas', 'multiselect']] as const) {
    await crm.customFields.define({ entity: 'contact', key, label: key, type, ...(type === 'multiselect' ? { options: [{ value: 'north' }, { value: 'south' }] } : {}) });
  }
  await crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@x.org', tags: ['vip'], externalRefs: [{ system: 'shop', id: '7' }], custom: { vat: 'DE1', rev: 12.5, since: '2023-11-22', budget: { amount: 500, currency: 'EUR' }, vip: true, areas: ['north'] } });
  await crm.pipelines.create({ name: 'P', stages: [{ key: 's', name: 'S' }] });
  await crm.deals.create({ title: 'Big', currency: 'EUR', probability: 40, expectedCloseDate: '2024-01-31', lineItems: [{ name: 'Desk', quantity: 2, unitPrice: 4999 }] } as never);
  await crm.leads.create({ name: 'L', expectedValue: { amount: 5000, currency: 'USD' }, probability: 20, tags: ['x'] });
  await crm.activities.log({ kind: 'call', subject: 'Hi', durationMinutes: 5, participants: [{ address: 'ada@x.org' }] } as never);
  await crm.tasks.create({ subject: 'Do', dueAt: '2024-01-01T10:00:00.000Z' } as never);
  for (const [entity, fields] of Object.entries(FIELDS)) {
    for (const [field, kind] of Object.entries(fields)) {
      for (const as of [...AS, undefined]) {
        const mapping = { [field]: { column: 'X', ...(as ? { as } : {}), ...(as === 'money' ? { currencyColumn: 'C' } : {}) } };
        let out = '';
        const error = await (async () => {
          for await (const piece of crm.export.run({ entity, mapping } as never)) out += piece;
        })().then(() => undefined, (e: unknown) => e);
        const label = `${entity} ${field} (${kind}) as ${as}: ${out}`;
        if (as === 'integer' && field === 'custom.rev') {
          // 12.5 is no whole number: the import would refuse the cell, so the export refuses the record, naming the column.
          expect(error, label).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', field, 'as'], code: 'invalid_value', message: expect.stringContaining('column "X"') }] } });
        } else if (as === undefined || WRITES[kind]!.includes(as)) {
          // Without `as` every field is written by its kind.
          expect(error, label).toBeUndefined();
          expect(out.split('\r\n')[1], label).not.toMatch(/NaN|^""?$|undefined|Invalid/);
        } else {
          expect(out, label).toBe('');
          expect(error, label).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', field, 'as'], code: 'invalid_value' }] } });
        }
      }
    }
  }
  // namePart and columns split names: refused on anything else.
  await expect(text(() => crm.export.run({ entity: 'contact', mapping: { tags: { column: 'T', namePart: 'first' } } }))).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'tags', 'namePart'] }] } });
  await expect(text(() => crm.export.run({ entity: 'deal', mapping: { value: { columns: ['A', 'B'] } } }))).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'value', 'columns'] }] } });
}, 60_000);
