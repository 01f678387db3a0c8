import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { mapRow } from '../../src/imports/column-mapping.js';

it('refuses a mapping with a path under a scalar field up front, writing nothing (review 16f item 3)', async () => {
  const { crm } = await createTestCrm();
  const rows = Array.from({ length: 30 }, (_, i) => ({ Name: `C${i}`, First: i === 25 ? 'Ada' : '' }));
  for (const [entity, mapping] of [
    ['contact', { name: 'Name', 'name.first': 'First' }],
    ['contact', { 'name.first': 'First', name: 'Name' }],
    ['deal', { title: 'Name', 'title.x': 'First' }],
    ['deal', { title: 'Name', 'value.amount.x': 'First' }],
  ] as const) {
    for (const dryRun of [true, false]) {
      const error = await crm.import.run({ entity, rows, mapping, chunkSize: 10, dryRun }).then(() => undefined, (e: unknown) => e);
      const bad = Object.keys(mapping).find((f) => f.includes('.'))!;
      expect(error, `${entity} ${bad}`).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', bad], code: 'unknown_field' }] } });
    }
  }
  expect((await crm.contacts.list({})).items).toEqual([]);
  expect((await crm.deals.list({})).items).toEqual([]);
});

it('reports two colliding paths as the row issue, never an untyped error (review 16f item 3)', () => {
  // `value` read by a transform as text, then `value.amount`: the input cannot hold both.
  const mapping = { value: { column: 'V', transform: (v: string) => v }, 'value.amount': { column: 'A', as: 'integer' as const } };
  const { issues } = mapRow({ V: 'x', A: '5' }, mapping, { locale: 'en-US' });
  expect(issues).toEqual([{ path: ['value', 'amount'], code: 'invalid_value', message: expect.stringContaining('value.amount cannot be set') }]);
});
