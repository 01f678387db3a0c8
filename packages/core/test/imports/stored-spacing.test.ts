import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';
import { text } from './export-text.js';

describe('re-importing an unchanged export leaves text with surrounding spaces alone (review 16e item 10)', () => {
  it('a name and a custom text stored with spaces are skipped as unchanged, on every re-import, and keep their spaces', async () => {
    const { crm } = await createTestCrm();
    await crm.customFields.define({ entity: 'contact', key: 'note', label: 'Note', type: 'text' });
    const c = await crm.contacts.create({ name: '  spaced  ', custom: { note: ' x ' }, externalRefs: [{ system: 'shop', id: '1' }] });
    const mapping = { name: 'Name', 'custom.note': 'Note', 'externalRefs.shop': 'Ref' };
    for (let round = 0; round < 2; round++) {
      const csv = await text(crm.export.run({ entity: 'contact', mapping }));
      const report = await crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', csv: csvSource(csv), mapping });
      expect(report.rows).toEqual([expect.objectContaining({ outcome: 'skipped', reason: 'unchanged' })]);
    }
    const stored = await crm.contacts.get(c.id);
    expect([stored.name, stored.custom?.note, stored.version]).toEqual(['  spaced  ', ' x ', c.version]);
  });

  it('a real change is still written (trimmed, as the import reads it)', async () => {
    const { crm } = await createTestCrm();
    const c = await crm.contacts.create({ name: '  spaced  ', externalRefs: [{ system: 'shop', id: '1' }] });
    const report = await crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', rows: [{ Name: '  other ', Ref: '1' }], mapping: { name: 'Name', 'externalRefs.shop': 'Ref' } });
    expect(report.rows[0]).toMatchObject({ outcome: 'updated' });
    expect((await crm.contacts.get(c.id)).name).toBe('other');
  });
});
