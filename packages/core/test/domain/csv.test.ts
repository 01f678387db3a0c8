import fc from 'fast-check';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { toCsv, type ReportRow } from '@crmkit/core/reports';

const SEPARATORS = [',', ';', '\t', '|'] as const;
const FORMULA_START = /^[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/;
/** The writer's rule: a formula start, also after leading spaces or apostrophes (so the import can drop exactly one `'`), unless a plain number. */
const guarded = (v: string) => /^[\s']*[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/.test(v) && !/^[+-]?\d+([.,]\d+)?$/.test(v);

/** Text an attacker would put in a contact name: separators, quotes, line breaks, formula starts. */
const hostileText = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'Ö', '1', '.', ' ', ',', ';', '\t', '|', '"', "'", '\r', '\n', '=', '+', '-', '@', '＝', '(', ')') }),
  fc.constantFrom('Nordwind;=1+2', '=HYPERLINK("http://x","y")', '@SUM(A1)', ' =1+2', '-5.00', '+49 30 123', '\t=1', '"', ''),
  fc.string(),
);
const value = fc.oneof(hostileText, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const rowsArb = fc.array(fc.dictionary(fc.constantFrom('name', 'amount', 'ok', 'note', 'a;b', '=x'), value), { maxLength: 8 });

/** What a spreadsheet shows for a cell we wrote: the text without the neutralising quote. */
function expected(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') return typeof v === 'number' && !Number.isFinite(v) ? '' : String(v);
  return v;
}

describe('toCsv', () => {
  it('quotes the issue example so no spreadsheet splits it or runs it', () => {
    const csv = toCsv([{ name: 'Nordwind;=1+2', deals: 3 }], { separator: ';' });
    expect(csv).toBe('"name";"deals"\r\n"Nordwind;=1+2";3\r\n');
    expect(toCsv([{ name: '=1+2' }, { name: '-5.00' }, { name: ' @cmd' }])).toBe('"name"\r\n"\'=1+2"\r\n"-5.00"\r\n"\' @cmd"\r\n');
  });

  it('round-trips through a real CSV parser for every separator, and no text cell starts a formula', () => {
    fc.assert(
      fc.property(rowsArb, fc.constantFrom(...SEPARATORS), fc.boolean(), (rows: ReportRow[], separator, bom) => {
        const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
        const csv = toCsv(rows, { separator, bom });
        expect(csv.startsWith('\uFEFF')).toBe(bom);
        const parsed = Papa.parse<string[]>(bom ? csv.slice(1) : csv, { delimiter: separator, newline: '\r\n', skipEmptyLines: false });
        expect(parsed.errors).toEqual([]);
        const lines = parsed.data.slice(0, -1); // the final CRLF ends the last record
        expect(lines.length).toBe(rows.length + 1);
        // A file without columns still has its (empty) header line.
        expect(lines[0]).toEqual(columns.length ? columns.map((c) => (guarded(c) ? `'${c}` : c)) : ['']);
        rows.forEach((row, i) => {
          const cells = lines[i + 1]!;
          expect(cells.length).toBe(Math.max(columns.length, 1));
          columns.forEach((column, j) => {
            const raw = row[column];
            const shown = cells[j]!;
            const text = expected(raw);
            if (typeof raw === 'string' && guarded(raw)) expect(shown).toBe(`'${text}`);
            else expect(shown).toBe(text);
            if (typeof raw === 'string') expect(FORMULA_START.test(shown.replace(/^ +/, '')) && !/^[+-]?\d+([.,]\d+)?$/.test(shown)).toBe(false);
          });
        });
        // Every text cell is quoted: no unquoted field can contain a separator.
        for (const row of rows) for (const v of Object.values(row)) if (typeof v === 'string') expect(csv).toContain(`"${(guarded(v) ? `'${v}` : v).replace(/"/g, '""')}"`);
      }),
      { numRuns: 300 },
    );
  });

  it('reads only own row fields for the given columns', () => {
    expect(toCsv([{ name: 'x' }], ['name', 'toString', '__proto__'])).toBe('"name","toString","__proto__"\r\n"x",,\r\n');
  });

  it('refuses options that would break the file, with VALIDATION', () => {
    for (const options of [{ separator: '"' }, { separator: '\n' }, { bom: 'yes' }, { columns: [1] }, { quote: true }]) {
      let error: unknown;
      try {
        toCsv([{ a: 1 }], options as never);
      } catch (e) {
        error = e;
      }
      expect(isCrmError(error, 'VALIDATION'), JSON.stringify(options)).toBe(true);
    }
    expect(() => toCsv('rows' as never)).toThrow(/rows/);
  });
});
