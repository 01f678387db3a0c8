import { describe, expect, it } from 'vitest';
import { csvSource } from '@crmkit/core/csv';
import { createTestCrm } from '@crmkit/core/testing';

async function read(input: string | Uint8Array, options = {}): Promise<{ header: readonly string[]; rows: Record<string, string>[] }> {
  let header: readonly string[] = [];
  const rows: Record<string, string>[] = [];
  for await (const batch of csvSource(input, options)) {
    header = batch.header;
    rows.push(...batch.records.map((r) => ({ ...r.values })));
  }
  return { header, rows };
}

describe("Excel's `sep=` first line (review 16e item 10)", () => {
  it('names the separator and is skipped: CRLF, LF, BOM (text and bytes), quoted, any case', async () => {
    for (const [start, nl] of [['', '\r\n'], ['\uFEFF', '\r\n'], ['', '\n'], ['\uFEFF', '\n'], ['', '\r']] as const) {
      for (const sepLine of ['sep=;', '"sep=;"', 'SEP=;']) {
        const file = `${start}${sepLine}${nl}Name;Amount;Note${nl}"Lovelace, Ada";"1,5";x|y${nl}Grace;2;${nl}`;
        for (const input of [file, new TextEncoder().encode(file)]) {
          expect(await read(input), JSON.stringify(file)).toEqual({ header: ['Name', 'Amount', 'Note'], rows: [{ Name: 'Lovelace, Ada', Amount: '1,5', Note: 'x|y' }, { Name: 'Grace', Amount: '2', Note: '' }] });
        }
      }
    }
  });

  it('wins over detection (a header full of commas), and an explicit delimiter wins over it', async () => {
    expect(await read('sep=|\r\na,b|c,d\r\n1,2|3,4\r\n')).toEqual({ header: ['a,b', 'c,d'], rows: [{ 'a,b': '1,2', 'c,d': '3,4' }] });
    expect((await read('sep=|\r\na,b\r\n1,2\r\n', { delimiter: ',' })).header).toEqual(['a', 'b']);
  });

  it('counts as a line where errors name lines', async () => {
    await expect(read('sep=;\r\nName;Note\r\nAda;"open\r\nGrace;x\r\nCy;"closed"\r\n')).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'unbalanced_quote', message: expect.stringContaining('line 3') }] } });
  });

  it('an import of such a file maps its columns', async () => {
    const { crm } = await createTestCrm();
    const report = await crm.import.run({ entity: 'contact', csv: csvSource('\uFEFFsep=;\r\nName;E-mail\r\nAda Lovelace;ada@example.com\r\n'), mapping: { name: 'Name', email: 'E-mail' } });
    expect(report.rows).toEqual([expect.objectContaining({ outcome: 'created' })]);
    expect((await crm.contacts.list()).items.map((c) => [c.name, c.email])).toEqual([['Ada Lovelace', 'ada@example.com']]);
  });
});
