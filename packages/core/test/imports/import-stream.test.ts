import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';
import type { ImportProgress } from '@crmkit/core/imports';

it('takes a web ReadableStream of rows in chunks, with progress (rows/s and ETA by the crm clock)', async () => {
  const { crm, clock } = await createTestCrm();
  const total = 7;
  let i = 0;
  const stream = new ReadableStream<Record<string, string>>({
    pull(controller) {
      if (i === total) controller.close();
      else controller.enqueue({ Name: `Row ${i++}` });
    },
  });
  const seen: ImportProgress[] = [];
  const report = await crm.import.run({
    entity: 'lead',
    stream,
    mapping: { name: 'Name' },
    chunkSize: 3,
    expectedRows: total,
    onProgress: (p) => {
      seen.push(p);
      clock.advance(1000);
    },
  });
  expect(report.counts.created).toBe(total);
  expect(seen.map((p) => [p.rows, p.chunks])).toEqual([[3, 1], [6, 2], [7, 3]]);
  // 6 rows in the 1 s the clock had moved: 6 rows/s, 1 row left.
  expect(seen[1]).toMatchObject({ total, rowsPerSecond: 6, etaMs: 1000 / 6 });
  expect((await crm.leads.list()).items).toHaveLength(total);
});

it('reads a CSV byte stream split inside quoted cells and multi-byte characters', async () => {
  const { crm } = await createTestCrm();
  const text = 'name;jobTitle\r\n"Müller; Anna";"Chef\r\n""Einkauf"""\r\nZoë;CTO\r\n';
  const bytes = new TextEncoder().encode(text);
  // One byte per chunk: every boundary falls somewhere awkward.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const b of bytes) controller.enqueue(new Uint8Array([b]));
      controller.close();
    },
  });
  const report = await crm.import.run({ entity: 'contact', csv: csvSource(stream) });
  const names = await Promise.all(report.rows.map(async (r) => crm.contacts.get(r.id!)));
  expect(names.map((c) => [c.name, c.jobTitle])).toEqual([['Müller; Anna', 'Chef\r\n"Einkauf"'], ['Zoë', 'CTO']]);
});

it('text with a byte order mark and a quoted first header cell reads the header without quotes', async () => {
  const { crm } = await createTestCrm();
  const report = await crm.import.run({ entity: 'contact', csv: csvSource('\uFEFF"Name","Email"\r\n"Ada","ada@example.com"\r\n'), mapping: { name: 'Name', email: 'Email' } });
  expect(report.rows.map((r) => r.outcome)).toEqual(['created']);
  expect((await crm.contacts.get(report.rows[0]!.id!)).email).toBe('ada@example.com');
});
