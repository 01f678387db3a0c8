import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { text } from './export-text.js';
import { IMPORTERS, IMPORT_ENTITIES } from '../../src/imports/import-entities.js';


it('accepts in an export mapping every field the import reads, of every entity (review 16f item 2)', async () => {
  const { crm } = await createTestCrm();
  for (const entity of IMPORT_ENTITIES) {
    // `custom.<key>` and `lineItems.<field>` name their keys (checked against definitions and LINE_FIELDS elsewhere).
    for (const field of [...IMPORTERS[entity].fields].filter((f) => f !== 'custom' && f !== 'lineItems')) {
      const error = await text(crm.export.run({ entity, mapping: { [field]: 'X' } })).then(() => undefined, (e: unknown) => e);
      expect(error, `${entity}.${field}`).toBeUndefined();
    }
  }
});

it('exports the fields the import reads with the same mapping, and the import reads them back unchanged (review 16f item 2)', async () => {
  const { crm } = await createTestCrm();
  const contact = await crm.contacts.create({ name: 'Ada', notes: 'met at the fair' } as never);
  const company = await crm.companies.create({ name: 'Acme', website: 'https://acme.example', notes: 'key account' } as never);
  const lead = await crm.leads.create({ name: 'Bob', website: 'https://bob.example', message: 'call me' } as never);
  const cases = [
    ['contact', contact.id, { name: 'N', notes: 'Notes' }, 'Ada,met at the fair'],
    ['company', company.id, { name: 'N', website: 'W', notes: 'Notes' }, 'Acme,https://acme.example,key account'],
    ['lead', lead.id, { name: 'N', website: 'W', message: 'M' }, 'Bob,https://bob.example,call me'],
  ] as const;
  for (const [entity, id, mapping, line] of cases) {
    const csv = await text(crm.export.run({ entity, mapping: { id: 'Id', ...mapping } }));
    expect(csv.replaceAll('"', '').split('\r\n')[1], entity).toBe(`${id},${line}`);
    const again = await crm.import.run({ entity, rows: [Object.fromEntries(csv.replaceAll('"', '').split('\r\n')[0]!.split(',').map((c, i) => [c, csv.replaceAll('"', '').split('\r\n')[1]!.split(',')[i]]))], mapping: { id: 'Id', ...mapping }, mode: 'update', key: 'id' });
    expect(again.rows.map((r) => r.outcome), entity).toEqual(['skipped']);
  }
  await crm.activities.log({ kind: 'call', subject: 'Intro', body: 'Talked', outcome: 'connected', durationMinutes: 15, contactId: contact.id } as never);
  const activities = await text(crm.export.run({ entity: 'activity', mapping: { kind: 'K', subject: 'S', body: 'B', outcome: 'O', durationMinutes: { column: 'D', as: 'integer' } } }));
  expect(activities.replaceAll('"', '').split('\r\n')[1]).toBe('call,Intro,Talked,connected,15');
});
