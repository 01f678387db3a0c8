import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { toCsv } from '@crmkit/core/reports';
import { csvSource } from '@crmkit/core/csv';
import { createTestCrm } from '@crmkit/core/testing';
import { mapRow } from '../../src/imports/column-mapping.js';
import { text } from '../imports/export-text.js';

/** The cells of a CSV text's first record, read as the import reads a mapped text column. */
async function readBack(csv: string): Promise<unknown> {
  // A line of one empty cell is a blank line to the reader: no record, no value.
  for await (const batch of csvSource(csv)) return batch.records[0] && mapRow(batch.records[0].values, { name: 'N' }, { locale: 'en-US', csv: true }).input.name;
  return undefined;
}

describe('formula guard (OWASP CSV injection) round-trips (review 16f item 9)', () => {
  it('any text without surrounding spaces reads back as it was written (property)', async () => {
    const cell = fc.oneof(fc.string({ unit: 'grapheme' }), fc.stringMatching(/^['\s]*[=+\-@＝＋－＠\t]?['\s]*[-+=@'a-z0-9,. ]*$/));
    await fc.assert(
      fc.asyncProperty(cell.filter((s) => s.trim() === s && s !== ''), async (s) => {
        expect(await readBack(toCsv([{ N: s }]))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  // Review 16g: the import trimmed before it dropped the guard, so "'<tab>" (the guard before a tab) read back as "'".
  it('any text reads back as it was written, trimmed — surrounding spaces, tabs, CRs and apostrophes included (property)', async () => {
    const edge = fc.stringMatching(/^[\s'\t\r\n]*[=+\-@＝＋－＠\t\r']?['\s\t\r\n]*[-+=@'a-z0-9,. \t]*[\s\t\r\n']*$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'grapheme' }), edge), async (s) => {
        expect(await readBack(toCsv([{ N: s }]))).toBe(s.trim() === '' ? undefined : s.trim());
      }),
      { numRuns: 500 },
    );
    for (const s of ["'\t", '\t', "''\t", "'\r", '\t=1', ' =x ', '=x\t', "'\t'", "' '", '\t\t-1', " '=x"]) expect(await readBack(toCsv([{ N: s }])), JSON.stringify(s)).toBe(s.trim() || undefined);
  });

  it('no cell a spreadsheet reads starts a formula: =, +, -, @, tab, CR or LF first, after spaces or apostrophes, only in plain numbers (property)', async () => {
    const risky = fc.stringMatching(/^[\s']*[=+\-@\t\r\n＝＋－＠][^]*$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'grapheme' }), risky), async (s) => {
        let cell = '';
        for await (const batch of csvSource(toCsv([{ N: s }]))) cell = String(batch.records[0]?.values.N ?? '');
        // What a spreadsheet sees: the guard first, or no formula starter at all (a plain number such as -12.5 computes nothing).
        if (/^[\s']*[=+\-@\t\r\n＝＋－＠]/.test(cell) && !/^[+-]?\d+([.,]\d+)?$/.test(cell)) expect(cell.startsWith("'"), JSON.stringify(cell)).toBe(true);
        if (cell.startsWith("'") && !s.startsWith("'")) expect(cell).toBe(`'${s}`);
      }),
      { numRuns: 500 },
    );
  });

  it('export → import (upsert) leaves texts with surrounding spaces, tabs and guard-like starts unchanged', async () => {
    const { crm } = await createTestCrm();
    const names = ["'\tx", '\t=1+2', ' =SUM(A1) ', '=x\t', " '@home", "''\t-y", 'plain  ', '  -minus'];
    for (const [i, name] of names.entries()) await crm.contacts.create({ name, email: `${i}@x.org` });
    const mapping = { name: 'N', email: 'E' };
    const csv = await text(crm.export.run({ entity: 'contact', mapping }));
    const report = await crm.import.run({ entity: 'contact', mode: 'upsert', key: 'email', csv: csvSource(csv), mapping });
    expect(report.rows.map((r) => [r.outcome, r.reason])).toEqual(names.map(() => ['skipped', 'unchanged']));
    expect((await crm.contacts.list({ orderBy: [{ field: 'email', direction: 'asc' }] })).items.map((c) => c.name)).toEqual(names);
    // Created from the file (another tenant's copy): the text as written, trimmed.
    const { crm: copy } = await createTestCrm();
    const created = await copy.import.run({ entity: 'contact', csv: csvSource(csv), mapping });
    expect(created.rows.map((r) => r.outcome)).toEqual(names.map(() => 'created'));
    expect((await copy.contacts.list({ orderBy: [{ field: 'email', direction: 'asc' }] })).items.map((c) => c.name)).toEqual(names.map((n) => n.trim()));
  });

  it('guards formulas, text already starting with the guard, and leaves plain numbers of any decimal mark alone', () => {
    const cells = (values: string[]) => toCsv(values.map((N) => ({ N }))).split('\r\n').slice(1, -1);
    expect(cells(['=1+2', '@home', ' -x', "'-) smiley", "'@home", "'+49 30 1234", "''=x", "'plain", '-1234.56', '-1234,56', '+12', '-1,2,3'])).toEqual([
      `"'=1+2"`, `"'@home"`, `"' -x"`, `"''-) smiley"`, `"''@home"`, `"''+49 30 1234"`, `"'''=x"`, `"'plain"`, '"-1234.56"', '"-1234,56"', '"+12"', `"'-1,2,3"`,
    ]);
  });

  it('export → import leaves apostrophe texts unchanged, and negative numbers in decimal-comma locales unguarded', async () => {
    const { crm } = await createTestCrm();
    const names = ["'-) smiley", "'@home", "'+49 30 1234", '=SUM(A1)', '-minus', "'plain"];
    for (const [i, name] of names.entries()) await crm.contacts.create({ name, email: `${i}@x.org` });
    const mapping = { name: 'N', email: 'E' };
    const csv = await text(crm.export.run({ entity: 'contact', mapping }));
    const report = await crm.import.run({ entity: 'contact', mode: 'upsert', key: 'email', csv: csvSource(csv), mapping });
    expect(report.rows.map((r) => r.outcome)).toEqual(names.map(() => 'skipped'));
    expect((await crm.contacts.list({ orderBy: [{ field: 'email', direction: 'asc' }] })).items.map((c) => c.name)).toEqual(names);

    await crm.customFields.define({ entity: 'contact', key: 'rev', label: 'R', type: 'number' });
    await crm.customFields.define({ entity: 'contact', key: 'budget', label: 'B', type: 'money' });
    await crm.contacts.create({ name: 'Neg', email: 'neg@x.org', custom: { rev: -1234.56, budget: { amount: -123456, currency: 'EUR' } } });
    const numbers = { email: 'E', 'custom.rev': { column: 'R', as: 'number' as const }, 'custom.budget': { column: 'B', as: 'money' as const, currencyColumn: 'C' } };
    for (const locale of ['de-DE', 'fr-FR', 'ar-MA', 'lo-LA', 'es-ES', 'en-US']) {
      const out = await text(crm.export.run({ entity: 'contact', where: where.eq('email', 'neg@x.org'), mapping: numbers, locale }));
      expect(out.split('\r\n')[1], locale).toMatch(/^"neg@x.org","-1234[.,]56","-1234[.,]56","EUR"$/);
      const again = await crm.import.run({ entity: 'contact', mode: 'update', key: 'email', csv: csvSource(out), mapping: numbers, locale });
      expect(again.rows.map((r) => r.outcome), locale).toEqual(['skipped']);
    }
  }, 60_000);
});
