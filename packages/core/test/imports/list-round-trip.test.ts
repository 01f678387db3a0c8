import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';
import { toCsv } from '../../src/domain/analytics/csv.js';
import { mapRow, unmapRecord, type ImportMapping } from '../../src/imports/column-mapping.js';
import { text } from './export-text.js';

/** A record's cells under `mapping` written as CSV, read back by `csvSource` and the import's `mapRow`. */
async function roundTrip(record: Record<string, unknown>, mapping: ImportMapping): Promise<Record<string, unknown>> {
  const csv = toCsv([unmapRecord(record, mapping, { locale: 'en-US' })]);
  for await (const batch of csvSource(csv)) return mapRow(batch.records[0]!.values, mapping, { locale: 'en-US', csv: true }).input;
  throw new Error('no row');
}

describe('list cells and joined columns read back what the export wrote (review 16e item 10)', () => {
  it('any tag list round-trips, whatever the items hold (separator, quotes, spaces, formula starts, `[]`), the empty list too — property', async () => {
    const item = fc.oneof(fc.constant('[]'), fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom('a', 'b', ',', '|', ';', ' ', '"', "'", '=', '-', '\n', 'é', '[', ']') })).filter((s) => s.trim() !== '');
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 0, maxLength: 6 }), fc.constantFrom(',', '|', ';', ', '), async (tags, separator) => {
        const mapping: ImportMapping = { tags: { column: 'Tags', as: 'list', separator } };
        expect((await roundTrip({ tags }, mapping)).tags).toEqual(tags);
      }),
      { numRuns: 300 },
    );
  });

  it('writes an item holding the separator in double quotes (the documented rule)', () => {
    expect(unmapRecord({ tags: ['a,b', 'say "hi"', 'c'] }, { tags: { column: 'T', as: 'list' } }, { locale: 'en-US' }).T).toBe('"a,b",say "hi",c');
    expect(mapRow({ T: '"a,b", c ,"x ""y"""' }, { tags: { column: 'T', as: 'list' } }, { locale: 'en-US' }).input.tags).toEqual(['a,b', 'c', 'x "y"']);
  });

  // Review16i #4b: an empty multiselect was written as an empty cell, which is no value: it came back absent.
  it('writes an empty list as `[]` and reads `[]` as the empty list; an empty cell stays no value, an item `[]` is quoted', () => {
    const mapping: ImportMapping = { tags: { column: 'T', as: 'list' }, 'custom.topics': 'C' };
    const options = { locale: 'en-US', kinds: { 'custom.topics': { as: 'list' as const } } };
    expect(unmapRecord({ tags: [], custom: { topics: [] } }, mapping, options)).toEqual({ T: '[]', C: '[]' });
    expect(unmapRecord({ tags: ['[]'] }, mapping, options)).toEqual({ T: '"[]"', C: null });
    expect(mapRow({ T: ' [] ', C: '' }, mapping, options).input).toEqual({ tags: [] });
    expect(mapRow({ T: '"[]"', C: '[],a' }, mapping, options).input).toEqual({ tags: ['[]'], custom: { topics: ['[]', 'a'] } });
    // Rows given as objects: a list passes as it is, under `as: 'list'` too (an empty one is no empty cell).
    expect(mapRow({ T: [], C: ['a,b'] }, mapping, options).input).toEqual({ tags: [], custom: { topics: ['a,b'] } });
  });

  it('any value of several joined columns round-trips with the same `join` — property', async () => {
    const word = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom('a', 'B', ',', 'ü') });
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 1, maxLength: 4 }), fc.constantFrom(' ', ', ', ' / '), fc.constantFrom(['First', 'Last'], ['Last', 'First'], ['A', 'B', 'C']), async (words, join, columns) => {
        const name = words.join(join);
        fc.pre(!name.split(join).some((p) => p.trim() === '' || p !== p.trim()));
        expect((await roundTrip({ name }, { name: { columns, join } })).name).toBe(name);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an empty separator or join at the call', async () => {
    const { crm } = await createTestCrm();
    await expect(text(() => crm.export.run({ entity: 'contact', mapping: { tags: { column: 'T', as: 'list', separator: '' } } }))).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'tags', 'separator'] }] } });
    await expect(crm.import.run({ entity: 'contact', rows: [{ A: 'x' }], mapping: { name: { columns: ['A'], join: '' } } })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('export → import of tags with separators and a "Last, First" name in two columns changes nothing', async () => {
    const { crm } = await createTestCrm();
    const ada = await crm.contacts.create({ name: 'Lovelace, Ada', tags: ['a,b', 'c', 'say "hi"'], externalRefs: [{ system: 'shop', id: '1' }] });
    const grace = await crm.contacts.create({ name: 'Grace Brewster Hopper', tags: ['x|y'], externalRefs: [{ system: 'shop', id: '2' }] });
    for (const mapping of [
      { name: { columns: ['Last', 'First'], join: ', ' }, tags: { column: 'Tags', as: 'list' }, 'externalRefs.shop': 'Ref' },
      { name: { columns: ['First', 'Last'] }, tags: { column: 'Tags', as: 'list', separator: '|' }, 'externalRefs.shop': 'Ref' },
    ] as ImportMapping[]) {
      const csv = await text(crm.export.run({ entity: 'contact', mapping, separator: ';' }));
      const report = await crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', csv: csvSource(csv), mapping });
      expect(report.rows.map((r) => r.outcome), csv).toEqual(['skipped', 'skipped']);
      expect((await crm.contacts.get(ada.id)).tags).toEqual(['a,b', 'c', 'say "hi"']);
      expect((await crm.contacts.get(ada.id)).name).toBe('Lovelace, Ada');
      expect((await crm.contacts.get(grace.id)).tags).toEqual(['x|y']);
      expect((await crm.contacts.get(grace.id)).name).toBe('Grace Brewster Hopper');
    }
  });
});
