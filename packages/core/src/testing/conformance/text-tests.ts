import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import { encodeCursor } from '../../query/cursor.js';
import type { Row } from '../../storage/storage-adapter.js';
import { dealRow, readAll, rejection, seed, type Harness } from './harness.js';

/** Text every engine stores alike, and text none may store: NUL and unpaired UTF-16 surrogates. */
const UNSTORABLE = ['\ud800', 'a\udfffb', 'x\ud83d', '\ude00y', 'nul\u0000'];

/** Strings of code units, lone surrogates and NUL included, so both verdicts come up often. */
const codeUnitText = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'é', '\u0000', '\ud800', '\udc00', '\ud83d', '\ude00', '🙂'), fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n))), maxLength: 6 });
const storable = (text: string) => !text.includes('\u0000') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

async function verdict(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return isCrmError(error) ? error.code : `foreign: ${String(error)}`;
  }
}

/** One verdict for text on every adapter: NUL and lone surrogates are refused with VALIDATION, everywhere they could reach the engine. */
export function textTests(h: Harness): void {
  describe('text no engine can store alike', () => {
    it('is refused in values, nested values, field names and delete ids with VALIDATION, and nothing is written', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('keep')]);
      const before = await readAll(adapter, 'deal');
      for (const bad of UNSTORABLE) {
        const rows: Row[] = [
          dealRow('a', { title: bad }),
          dealRow('b', { custom: { note: bad } }),
          dealRow('c', { tags: ['ok', bad] }),
          dealRow('d', { custom: { [`k${bad}`]: 1 } }),
        ];
        for (const row of rows) {
          const error = await rejection(adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'insert', row: dealRow('first') }, { type: 'insert', row }])));
          expect(isCrmError(error, 'VALIDATION'), `${JSON.stringify(bad)} in ${JSON.stringify(row)}: ${String(error)}`).toBe(true);
        }
        const update = await rejection(adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'update', row: dealRow('keep', { version: 2, title: bad }), expectedVersion: 1 }])));
        expect(isCrmError(update, 'VALIDATION')).toBe(true);
        const remove = await rejection(adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'delete', id: bad }])));
        expect(isCrmError(remove, 'VALIDATION')).toBe(true);
      }
      expect(await readAll(adapter, 'deal')).toEqual(before);
    });

    it('is refused in filter values, aggregate filters and cursors with VALIDATION', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a', { title: 'x' }), dealRow('b', { title: 'y' })]);
      for (const bad of UNSTORABLE) {
        const queries: (() => Promise<unknown>)[] = [
          () => adapter.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'eq', field: 'title', value: bad } })),
          () => adapter.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'in', field: 'title', values: ['x', bad] } })),
          () => adapter.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'prefix', field: 'title', value: bad } })),
          () => adapter.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'containsAny', field: 'tags', values: [bad] } })),
          () => adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', { filter: { op: 'gt', field: 'title', value: bad }, metrics: { n: { fn: 'count' } } })),
          () => adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', { metrics: { n: { fn: 'count', where: { op: 'eq', field: 'title', value: bad } } } })),
          () => adapter.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'title' }], limit: 1, after: encodeCursor({ id: 'a', title: bad }, [{ field: 'title' }]) })),
          () => adapter.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'title' }], limit: 1, after: encodeCursor({ id: bad, title: 'x' }, [{ field: 'title' }]) })),
        ];
        for (const [i, query] of queries.entries()) expect(await verdict(query()), `query ${i} with ${JSON.stringify(bad)}`).toBe('VALIDATION');
      }
    });

    it('any text: stored and found exactly when storable, refused with VALIDATION otherwise (property)', async () => {
      const { adapter } = await h.open();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(codeUnitText, async (text) => {
          const id = `p${n++}`;
          const row = dealRow(id, { title: text, custom: { note: text } });
          const written = await verdict(seed(adapter, 'deal', [row]));
          const found = await verdict(adapter.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'eq', field: 'title', value: text } })));
          if (storable(text)) {
            expect([written, found]).toEqual(['ok', 'ok']);
            const [stored] = await adapter.transaction('r', (tx) => tx.getMany('deal', 't1', [id]));
            expect(stored).toEqual(row);
          } else {
            expect([written, found]).toEqual(['VALIDATION', 'VALIDATION']);
            expect(await adapter.transaction('r', (tx) => tx.getMany('deal', 't1', [id]))).toEqual([undefined]);
          }
        }),
        { numRuns: h.options.numRuns },
      );
    });
  });
}
