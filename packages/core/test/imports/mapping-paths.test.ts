import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { text } from './export-text.js';


it('refuses an export mapping naming a path under a scalar field, as the import does (review 16f item 4)', async () => {
  const { crm } = await createTestCrm();
  await crm.pipelines.create({ name: 'P', stages: [{ key: 's', name: 'S' }] });
  await crm.contacts.create({ name: 'Ada', email: 'ada@x.org', tags: ['a'] });
  await crm.deals.create({ title: 'Big', value: { amount: 100, currency: 'EUR' } });
  const cases: [string, string][] = [['contact', 'name.first'], ['contact', 'email.x'], ['contact', 'tags.0'], ['deal', 'title.x'], ['deal', 'stageKey.foo'], ['deal', 'value.amount.x']];
  for (const [entity, path] of cases) {
    let out = '';
    const error = await (async () => {
      for await (const piece of crm.export.run({ entity: entity as 'contact', mapping: { [path]: 'X' } })) out += piece;
    })().then(() => undefined, (e: unknown) => e);
    expect(error, path).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', path], code: 'unknown_field' }] } });
    expect(out, path).toBe('');
  }
  // Real paths still export: a flattened money field, its parts, a stored field.
  const csv = await text(crm.export.run({ entity: 'deal', mapping: { title: 'T', value: { column: 'V', as: 'money', currency: 'EUR' }, 'value.amount': 'A', 'value.currency': 'C' } }));
  expect(csv.replaceAll('"', '').split('\r\n')[1]).toBe('Big,1.00,100,EUR');
});
