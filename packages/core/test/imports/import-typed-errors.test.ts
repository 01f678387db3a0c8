import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';

/** Every wrong input of a run's options is a `VALIDATION` before anything is read or written (never a TypeError mid-run). */
describe('import options: wrong types are VALIDATION, never a TypeError', () => {
  const expectValidation = async (run: () => Promise<unknown>, label: string) => {
    const error = await run().then(() => undefined, (e: unknown) => e);
    expect(isCrmError(error, 'VALIDATION'), `${label}: ${String(error)}`).toBe(true);
  };

  it('a key that is not a string', async () => {
    const { crm } = await createTestCrm();
    for (const key of [5, null, {}, ['email'], true]) await expectValidation(() => crm.import.run({ entity: 'contact', mode: 'upsert', key: key as never, rows: [{ name: 'a' }] }), JSON.stringify(key));
    expect((await crm.contacts.list()).items).toEqual([]);
  });

  it('a csv that is not a csvSource (Node stream, Blob.stream(), chunks of text); no job is left behind', async () => {
    const { crm } = await createTestCrm();
    async function* textChunks() {
      yield 'name\nA\n';
    }
    const inputs = [() => Readable.from(['name\nA\n']), () => new Blob(['name\nA\n']).stream(), () => textChunks()];
    for (const input of inputs) {
      await expectValidation(() => crm.import.run({ entity: 'contact', csv: input() as never }), 'csv');
      await expectValidation(() => crm.import.run({ entity: 'contact', csv: input() as never, mapping: { name: 'name' } }), 'csv with mapping');
    }
    expect((await crm.contacts.list()).items).toEqual([]);
    // Wrapped, the same inputs import.
    for (const input of inputs) expect((await crm.import.run({ entity: 'contact', csv: csvSource(input() as never) })).counts.created).toBe(1);
    expect((await crm.contacts.list()).items.map((c) => c.name)).toEqual(['A', 'A', 'A']);
  });

  it('csvSource of something unreadable, or of chunks that are neither text nor bytes', async () => {
    const { crm } = await createTestCrm();
    for (const input of [5, null, undefined, {}, true]) {
      const error = (() => {
        try {
          csvSource(input as never);
        } catch (e) {
          return e;
        }
      })();
      expect(isCrmError(error, 'VALIDATION'), String(input)).toBe(true);
    }
    async function* numbers() {
      yield 5;
    }
    await expectValidation(() => crm.import.run({ entity: 'contact', csv: csvSource(numbers() as never) }), 'number chunks');
  });

  it('a column spec with a wrong option (unknown as, namePart, transform, columns, column, unknown option)', async () => {
    const { crm } = await createTestCrm();
    const specs = [{ column: 'n', as: 'bogus' }, { column: 'n', namePart: 'middle' }, { column: 'n', transform: 5 }, { columns: 'n' }, { columns: [] }, { column: 5 }, { column: 'n', sepparator: ';' }, { column: 'n', required: 'yes' }, null, 7];
    for (const spec of specs) await expectValidation(() => crm.import.run({ entity: 'contact', rows: [{ n: 'a' }], mapping: { name: spec as never } }), JSON.stringify(spec));
    expect((await crm.contacts.list()).items).toEqual([]);
  });

  it('expectedRows that is not a whole number', async () => {
    const { crm } = await createTestCrm();
    for (const expectedRows of ['x', -1, 1.5, Number.NaN]) await expectValidation(() => crm.import.run({ entity: 'contact', rows: [{ name: 'a' }], expectedRows: expectedRows as never }), String(expectedRows));
  });
  it('an export mapping naming a field the entity does not have (a typo, an undefined custom field) is VALIDATION, not an empty column', async () => {
    const { crm } = await createTestCrm();
    await crm.contacts.create({ name: 'A', email: 'a@x.org', externalRefs: [{ system: 'shop', id: '1' }] });
    await crm.customFields.define({ entity: 'contact', key: 'vatId', label: 'VAT id', type: 'text' });
    const read = async (mapping: Record<string, unknown>) => {
      let text = '';
      for await (const chunk of crm.export.run({ entity: 'contact', mapping: mapping as never })) text += chunk;
      return text;
    };
    for (const mapping of [{ name: 'Name', emial: 'Email' }, { name: 'Name', 'custom.nope': 'C' }, { name: 'Name', searchKeys: 'K' }, { name: { column: 'Name', as: 'bogus' } }]) await expectValidation(() => read(mapping), JSON.stringify(mapping));
    expect(await read({ name: 'Name', email: 'Email', 'custom.vatId': 'VAT', 'externalRefs.shop': 'Shop', id: 'Id' })).toMatch(/^"Name","Email","VAT","Shop","Id"\r\n"A","a@x.org",("")?,"1","ctc_/);
  });
  it('invalid_encoding names the bad byte, whole or in chunks', async () => {
    const { crm } = await createTestCrm();
    const enc = (t: string) => new TextEncoder().encode(t);
    async function* parts(list: Uint8Array[]) {
      yield* list;
    }
    const head = enc('Name,Email\nAda,ada@x.org\nJ');
    const inputs = [() => csvSource(new Uint8Array([...head, 0xfc, ...enc('rgen,j@x.org\n')])), () => csvSource(parts([enc('Name,Email\nAda,ada@x.org\n'), new Uint8Array([0x4a, 0xfc]), enc('rgen,j@x.org\n')]))];
    for (const input of inputs) {
      const error = await crm.import.run({ entity: 'contact', csv: input(), chunkSize: 1 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'invalid_encoding', message: expect.stringContaining(`byte ${head.length} `) }] } });
    }
  });
});

/** A mapped field path reaching a prototype would pollute every object of the process (review 16d #1). */
describe('import mapping: field paths cannot reach a prototype', () => {
  it('__proto__, constructor and prototype segments (and empty ones) are VALIDATION before a row is read, on runs, dry runs and exports', async () => {
    const { crm } = await createTestCrm();
    for (const field of ['__proto__.polluted', 'constructor.prototype.polluted', 'custom.__proto__.polluted', 'custom..x', '__proto__']) {
      for (const dryRun of [false, true]) {
        const error = await crm.import.run({ entity: 'contact', dryRun, rows: [{ n: 'EVIL' }], mapping: { name: 'n', [field]: 'n' } }).then(() => undefined, (e: unknown) => e);
        expect(isCrmError(error, 'VALIDATION'), `${field}: ${String(error)}`).toBe(true);
      }
      const csvError = await crm.import.run({ entity: 'contact', csv: csvSource('n\nEVIL\n'), mapping: { name: 'n', [field]: 'n' } }).then(() => undefined, (e: unknown) => e);
      expect(isCrmError(csvError, 'VALIDATION'), `csv ${field}`).toBe(true);
      const exportError = await (async () => {
        for await (const chunk of crm.export.run({ entity: 'contact', mapping: { name: 'Name', [field]: 'X' } })) void chunk;
      })().then(() => undefined, (e: unknown) => e);
      expect(isCrmError(exportError, 'VALIDATION'), `export ${field}`).toBe(true);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await crm.contacts.list()).items).toEqual([]);
    // A clean import afterwards still works.
    expect((await crm.import.run({ entity: 'contact', rows: [{ n: 'Ada' }], mapping: { name: 'n' } })).counts.created).toBe(1);
  });
});

describe('a CSV file of only a header is checked against the mapping like any file (review 16e item 8)', () => {
  it('a header-only file lacking mapped columns fails missing_column; one with them imports nothing', async () => {
    const { crm } = await createTestCrm();
    const mapping = { name: 'Name', email: 'Email' };
    for (const text of ['Nmae,Mail\r\n', 'Nmae,Mail', 'Nmae,Mail\r\n\r\n  \r\n']) {
      await expect(crm.import.run({ entity: 'contact', csv: csvSource(text), mapping }), JSON.stringify(text)).rejects.toMatchObject({
        code: 'VALIDATION',
        details: { issues: [{ path: ['csv', 'Name'], code: 'missing_column' }, { path: ['csv', 'Email'], code: 'missing_column' }] },
      });
    }
    const ok = await crm.import.run({ entity: 'contact', csv: csvSource('Name,Email\r\n'), mapping });
    expect([ok.rows, ok.counts.created]).toEqual([[], 0]);
    expect((await crm.contacts.list()).items).toEqual([]);
  });
});
