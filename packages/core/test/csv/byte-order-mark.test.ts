import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { csvSource } from '@crmkit/core/csv';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

/** Every record a source yields (header and values), or the error it raises. */
async function readAll(source: AsyncIterable<{ header: readonly string[]; records: readonly { values: unknown }[] }>): Promise<unknown> {
  const out: unknown[] = [];
  try {
    for await (const batch of source) out.push(batch.header, ...batch.records.map((r) => r.values));
  } catch (error) {
    if (!isCrmError(error)) throw error;
    out.push({ error: error.code, details: error.details });
  }
  return out;
}

/** The bytes cut at the given offsets (chunks of any size, one byte included). */
async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const to of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    if (to > from) yield bytes.slice(from, to);
    from = to;
  }
  if (from < bytes.length) yield bytes.slice(from);
}

/** UTF-16 code units as bytes (a test encoder: TextEncoder writes UTF-8 only). */
function utf16(text: string, bigEndian: boolean): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out.push(...(bigEndian ? [unit >> 8, unit & 0xff] : [unit & 0xff, unit >> 8]));
  }
  return new Uint8Array(out);
}
const BOMS = {
  'utf-8': (text: string) => new TextEncoder().encode(`\uFEFF${text}`),
  'utf-16le': (text: string) => utf16(`\uFEFF${text}`, false),
  'utf-16be': (text: string) => utf16(`\uFEFF${text}`, true),
};

/** A byte order mark decides the encoding whatever the label says, as the WHATWG Encoding Standard's decode does (review16h #9). */
describe('a byte order mark names the encoding', () => {
  const text = 'name;notes\r\nJürgen;"Zoë, ça va?"\r\n€uro;x\r\n';
  const expected = [['name', 'notes'], { name: 'Jürgen', notes: 'Zoë, ça va?' }, { name: '€uro', notes: 'x' }];

  it('UTF-8, UTF-16LE and UTF-16BE files read the same under any stated encoding and any chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(Object.keys(BOMS) as (keyof typeof BOMS)[])),
        fc.constantFrom(undefined, 'utf-8', 'windows-1252', 'utf-16le', 'iso-8859-2'),
        fc.array(fc.nat(200), { maxLength: 6 }),
        async (bom, encoding, cuts) => {
          const bytes = BOMS[bom](text);
          expect(await readAll(csvSource(chunked(bytes, cuts), encoding ? { encoding } : {}))).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('one byte per chunk, and files shorter than a UTF-8 BOM', async () => {
    const bytes = BOMS['utf-16le'](text);
    expect(await readAll(csvSource(chunked(bytes, [...bytes.keys()]), { encoding: 'windows-1252' }))).toEqual(expected);
    expect(await readAll(csvSource(new Uint8Array([0x61, 0x0a])))).toEqual([['a']]);
    expect(await readAll(csvSource(new Uint8Array([0x61])))).toEqual([['a']]);
    expect(await readAll(csvSource(new Uint8Array([0xff, 0xfe])))).toMatchObject([{ error: 'VALIDATION', details: { issues: [{ code: 'empty_file' }] } }]);
    expect(await readAll(csvSource(new Uint8Array([0xe9, 0x0a]), { encoding: 'windows-1252' }))).toEqual([['é']]);
  });

  it('without a mark the stated encoding holds (windows-1252 bytes stay windows-1252)', async () => {
    const bytes = new Uint8Array([...'name\r\n'].map((c) => c.charCodeAt(0)).concat([0x4a, 0xfc, 0x72, 0x67, 0x65, 0x6e, 0x0d, 0x0a]));
    expect(await readAll(csvSource(bytes, { encoding: 'windows-1252' }))).toEqual([['name'], { name: 'Jürgen' }]);
    expect(await readAll(csvSource(bytes))).toMatchObject([{ error: 'VALIDATION', details: { issues: [{ code: 'invalid_encoding' }] } }]);
  });

  it('the review\'s files import: a UTF-8 file with BOM stated as windows-1252, a UTF-16LE one stated as nothing', async () => {
    const { crm } = await createTestCrm();
    const utf8 = await crm.import.run({ entity: 'lead', csv: csvSource(new TextEncoder().encode('\uFEFFname\nJürgen\n'), { encoding: 'windows-1252' }) });
    const le = await crm.import.run({ entity: 'lead', csv: csvSource(BOMS['utf-16le']('name\nZoë\n')) });
    expect([utf8.counts.created, le.counts.created]).toEqual([1, 1]);
    expect((await crm.leads.list()).items.map((l) => l.name).sort()).toEqual(['Jürgen', 'Zoë']);
  });
});
