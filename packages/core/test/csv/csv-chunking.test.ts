import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { csvSource } from '@crmkit/core/csv';
import { isCrmError } from '@crmkit/core';

/** Everything a CSV source yields (header, records with their issues) or the run-level error it raises. */
async function readAll(source: AsyncIterable<{ header: readonly string[]; records: readonly unknown[] }>): Promise<unknown> {
  const out: unknown[] = [];
  try {
    for await (const batch of source) out.push({ header: batch.header }, ...batch.records);
  } catch (error) {
    if (!isCrmError(error)) throw error;
    out.push({ error: error.code, details: error.details });
  }
  return out;
}

const enc = new TextEncoder();
/** The bytes cut at the given offsets, as a web ReadableStream. */
function streamOf(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let from = 0;
      for (const to of [...at, bytes.length]) {
        if (to > from) controller.enqueue(bytes.slice(from, to));
        from = to;
      }
      controller.close();
    },
  });
}

// Cells that stress the parser: quotes (doubled and stray), CR, LF, CRLF inside quoted cells, separators, multi-byte characters.
const cell = fc.oneof(
  fc.constantFrom('', 'Ada', 'x y', ' pad ', 'Zoë', '😀', '1,5', 'a;b'),
  fc.constantFrom('"q"', '"a""b"', '"line one\r\nline ""two"""', '"l1\nl2"', '"cr\rcr"', '"semi;colon,comma"', '"x"  '),
  fc.constantFrom('27" screen', 'a"b', '"open', 'close"', '"a"b"', '"'),
);
const lineEnd = fc.constantFrom('\r\n', '\n');
const file = fc
  .record({ cols: fc.integer({ min: 1, max: 4 }), eol: lineEnd, sep: fc.constantFrom(',', ';'), rows: fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { maxLength: 12 }), tail: fc.boolean() })
  .map(({ cols, eol, sep, rows, tail }) => {
    const header = Array.from({ length: cols }, (_, i) => `c${i}`).join(sep);
    return [header, ...rows.map((r) => r.join(sep))].join(eol) + (tail ? eol : '');
  });

describe('csvSource: whether a row parses never depends on how the bytes were chunked', () => {
  it('the same records, issues and errors for any chunking of files with quotes, CRLF and multi-line cells', async () => {
    await fc.assert(
      fc.asyncProperty(file, fc.array(fc.nat(), { maxLength: 8 }), async (text, cuts) => {
        const whole = await readAll(csvSource(text, { delimiter: text.startsWith('c0;') ? ';' : ',' }));
        const bytes = enc.encode(text);
        const chunked = await readAll(csvSource(streamOf(bytes, cuts), { delimiter: text.startsWith('c0;') ? ';' : ',' }));
        expect(chunked).toEqual(whole);
      }),
      { numRuns: 250 },
    );
  }, 60_000);

  it('one byte per chunk reads what the whole text reads (separator and line ending detected the same way)', async () => {
    await fc.assert(
      fc.asyncProperty(file, async (text) => {
        const bytes = enc.encode(text);
        const cuts = Array.from({ length: bytes.length }, (_, i) => i);
        expect(await readAll(csvSource(streamOf(bytes, cuts)))).toEqual(await readAll(csvSource(text)));
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it('a chunk that ends between a closing quote + CR and its LF keeps the row valid (review 16e item 2)', async () => {
    const lines = ['id;name;note'];
    for (let i = 1; i <= 300; i++) lines.push(`${i};"Name ${i}";"line one\r\nline ""two"" ${'x'.repeat(i % 50)}"`);
    const bytes = enc.encode(lines.join('\r\n') + '\r\n');
    for (const size of [1000, 4093, 1]) {
      const cuts = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => i * size);
      const records = (await readAll(csvSource(streamOf(bytes, cuts)))) as { values?: Record<string, string>; issues?: unknown }[];
      const rows = records.filter((r) => r.values);
      expect(rows).toHaveLength(300);
      expect(rows.filter((r) => r.issues)).toEqual([]);
      expect(rows[299]!.values).toEqual({ id: '300', name: 'Name 300', note: 'line one\r\nline "two" ' });
    }
  }, 60_000);

  it('a stray quote closed by a quote lines later fails the run naming the line, rather than swallowing rows (review 16e item 3)', async () => {
    // (`Ada,"open⏎Bob,ok⏎Cy,end"` is a valid multi-line cell under RFC 4180 and reads as one.)
    for (const text of ['name,notes\r\nAda,"open\r\nBob,ok\r\nCy,"closed"\r\nDan,fine\r\n', 'name,notes\r\nAda,"24 inch\r\nBob,ok\r\nCy,27" screen\r\nDan,fine\r\n']) {
      const out = (await readAll(csvSource(text))) as { error?: string; details?: { issues: { code: string; message: string }[] } }[];
      const last = out.at(-1)!;
      expect(last.error).toBe('VALIDATION');
      expect(last.details!.issues[0]).toMatchObject({ code: 'unbalanced_quote' });
      expect(last.details!.issues[0]!.message).toMatch(/^row 1 \(line 2\) opens a quote that is (closed only by a stray quote lines later|never closed): the [23] lines after it/);
    }
  });

  it('a stray quote inside a one-line cell stays a row issue; the rows after it are read', async () => {
    const out = (await readAll(csvSource('name,notes\r\nAda,"a"b"\r\nBob,ok\r\n'))) as { values?: Record<string, string>; issues?: { code: string }[] }[];
    expect(out.filter((r) => r.values).map((r) => [r.values!.name, r.issues?.map((i) => i.code)])).toEqual([
      ['Ada', ['invalid_quote']],
      ['Bob', undefined],
    ]);
  });
});
