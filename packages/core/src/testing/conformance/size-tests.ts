import { describe, expect, it } from 'vitest';
import { dealRow, seed, type Harness } from './harness.js';

/** More values than SQLite binds as parameters of one statement (32 766). */
const MANY = 33_000;

/** Long id lists and value lists: answered in full, never cut at an engine's parameter limit. */
export function sizeTests(h: Harness): void {
  describe('long lists', () => {
    const stored = 1_200;
    const ids = Array.from({ length: stored }, (_, i) => `d${String(i).padStart(5, '0')}`);
    // Stored ids spread through a list of MANY, the rest missing.
    const many = Array.from({ length: MANY }, (_, i) => (i % 33 === 0 && i / 33 < stored ? ids[i / 33]! : `missing${i}`));
    const listed = many.filter((id) => !id.startsWith('missing'));

    it(`getMany answers ${MANY} ids in order, undefined for the missing`, async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ids.map((id) => dealRow(id)));
      const rows = await adapter.transaction('r', (tx) => tx.getMany('deal', 't1', many));
      expect(rows).toHaveLength(MANY);
      expect(rows.map((r, i) => (r ? r.id === many[i] : many[i]!.startsWith('missing'))).every(Boolean)).toBe(true);
    });

    it(`in and containsAny with ${MANY} values match every listed row`, async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ids.map((id) => dealRow(id, { title: id, tags: [`tag-${id}`] })));
      const { byIn, byTags, counted } = await adapter.transaction('r', async (tx) => ({
        byIn: (await tx.query('deal', 't1', { filter: { op: 'in', field: 'title', values: many }, sort: [{ field: 'id' }] })).rows.map((r) => r.id),
        byTags: (await tx.query('deal', 't1', { filter: { op: 'containsAny', field: 'tags', values: many.map((id) => `tag-${id}`) }, sort: [{ field: 'id' }] })).rows.map((r) => r.id),
        counted: await tx.aggregate('deal', 't1', { filter: { op: 'in', field: 'title', values: many }, metrics: { n: { fn: 'count' } } }),
      }));
      expect(byIn).toEqual([...listed].sort());
      expect(byTags).toEqual([...listed].sort());
      expect(counted[0]!.values.n).toBe(listed.length);
    });

    it('a query without a limit returns every matching row (no engine default cuts it)', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ids.map((id) => dealRow(id, { title: 'same' })));
      const { rows, nextCursor } = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'eq', field: 'title', value: 'same' } }));
      expect(rows).toHaveLength(stored);
      expect(nextCursor).toBeUndefined();
    });
  });
}
