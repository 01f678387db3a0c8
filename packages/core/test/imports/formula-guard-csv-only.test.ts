import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';
import { text } from './export-text.js';

const NAMES = ["'-) smiley", "'+49 30", "'@home", "'=x", "''=x", '=x', "O'Brien"];

it('keeps a leading apostrophe in JSON and rows imports: only CSV cells carry the formula guard (review 16g #1)', async () => {
  const { crm } = await createTestCrm();
  for (const [i, name] of NAMES.entries()) await crm.contacts.create({ name, email: `c${i}@x.org`, tags: [name] });
  const mapping = { name: 'N', email: 'E', tags: { column: 'T', as: 'list' as const } };
  const rows = JSON.parse(await text(crm.export.run({ entity: 'contact', mapping, format: 'json' }))) as Record<string, unknown>[];
  const json = await crm.import.run({ entity: 'contact', mode: 'update', key: 'email', rows, mapping });
  expect(json.counts.failed).toBe(0);
  const stored = (await crm.contacts.list()).items.map((c) => [c.name, c.tags]);
  expect(stored.sort()).toEqual(NAMES.map((n) => [n, [n]]).sort());

  // CSV: the export guards, the import drops exactly that guard.
  const csv = await text(crm.export.run({ entity: 'contact', mapping }));
  const fromCsv = await crm.import.run({ entity: 'contact', mode: 'update', key: 'email', csv: csvSource(csv), mapping });
  expect(fromCsv.counts.failed).toBe(0);
  expect((await crm.contacts.list()).items.map((c) => [c.name, c.tags]).sort()).toEqual(NAMES.map((n) => [n, [n]]).sort());

  // Rows a host passes with a mapping keep their text as given.
  const host = await crm.import.run({ entity: 'contact', rows: [{ N: "'@home" }], mapping: { name: 'N' } });
  expect((await crm.contacts.get(host.rows[0]!.id!)).name).toBe("'@home");
});
