import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

// fix16l item 3 (review 16e #10): what splitting a full name does with "Last, First", as docs/integration.md states it.
it('namePart reads "Last, First" (a comma) and "First Last" (the last word) alike; a plain name column stores the name as written', async () => {
  const { crm } = await createTestCrm();
  await crm.customFields.define({ entity: 'contact', key: 'firstName', label: 'First name', type: 'text' });
  await crm.customFields.define({ entity: 'contact', key: 'lastName', label: 'Last name', type: 'text' });
  const cells = ['Lovelace, Ada', 'Ada Lovelace', 'Lovelace,Ada', '  Ada   King   Lovelace ', 'King, Ada Augusta', 'King, Ada, Countess', 'Lovelace', 'Lovelace,'];
  const report = await crm.import.run({
    entity: 'contact',
    rows: cells.map((Name) => ({ Name })),
    mapping: { name: 'Name', 'custom.firstName': { column: 'Name', namePart: 'first' }, 'custom.lastName': { column: 'Name', namePart: 'last' } },
  });
  expect(report.rows.map((r) => r.outcome)).toEqual(cells.map(() => 'created'));
  const got = await Promise.all(report.rows.map(async (r) => { const c = await crm.contacts.get(r.id!); return [c.name, c.custom.firstName, c.custom.lastName]; }));
  expect(got).toEqual([
    // The name field keeps the cell as written (crmkit does not reorder names); namePart splits at the first comma…
    ['Lovelace, Ada', 'Ada', 'Lovelace'],
    // …or, without one, before the last word.
    ['Ada Lovelace', 'Ada', 'Lovelace'],
    ['Lovelace,Ada', 'Ada', 'Lovelace'],
    ['Ada   King   Lovelace', 'Ada King', 'Lovelace'],
    ['King, Ada Augusta', 'Ada Augusta', 'King'],
    // Only the first comma splits: what follows it is the first name.
    ['King, Ada, Countess', 'Ada, Countess', 'King'],
    // One word, or nothing after the comma: a last name only (an empty part sets nothing).
    ['Lovelace', undefined, 'Lovelace'],
    ['Lovelace,', undefined, 'Lovelace'],
  ]);
});
