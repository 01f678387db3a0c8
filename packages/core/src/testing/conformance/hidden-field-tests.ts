import { describe, expect, it } from 'vitest';
import type { ChangeBatch, Row } from '../../storage/storage-adapter.js';
import { dealRow, readAll, seed, type Harness } from './harness.js';

/** Ids of rows, failing when one carries the hidden field. */
function shown(rows: readonly (Row | undefined)[]): string[] {
  for (const row of rows) if (row) expect(Object.keys(row), `row ${row.id}`).not.toContain('scopeTeam');
  return rows.map((r) => r?.id ?? '-');
}

/** Hidden fields (`EntitySchema.hidden`; the deal's `scopeTeam`): filtered and sorted on, never handed out. */
export function hiddenFieldTests(h: Harness): void {
  describe('hidden fields', () => {
    it('are stored for filters and sorts but left out of getMany, query, claim and change batches; a row written without one stores none', async () => {
      const { adapter } = await h.open();
      const batches: ChangeBatch[] = [];
      const off = adapter.onChange((batch) => void batches.push(batch));
      await seed(adapter, 'deal', [dealRow('a', { ownerId: 'u1', scopeTeam: 'north' }), dealRow('b', { ownerId: 'u2', scopeTeam: 'south' }), dealRow('c', { ownerId: 'u3' })]);
      const keyed = (value: string) => adapter.transaction('r', async (tx) => shown((await tx.query('deal', 't1', { filter: { op: 'eq', field: 'scopeTeam', value } })).rows));
      expect(await keyed('north')).toEqual(['a']);
      await adapter.transaction('rw', async (tx) => {
        expect(shown(await tx.getMany('deal', 't1', ['a', 'b', 'c']))).toEqual(['a', 'b', 'c']);
        const sorted = await tx.query('deal', 't1', { filter: { op: 'prefix', field: 'scopeTeam', value: '' }, sort: [{ field: 'scopeTeam', direction: 'desc' }] });
        expect(shown(sorted.rows)).toEqual(['b', 'a']);
        expect(shown(await tx.claim('deal', 't1', { filter: { op: 'in', field: 'scopeTeam', values: ['south'] }, limit: 5 }))).toEqual(['b']);
        // A transaction's own writes read back without it too.
        await tx.write('deal', 't1', [{ type: 'update', row: { ...dealRow('c', { ownerId: 'u3', scopeTeam: 'north' }), version: 2 }, expectedVersion: 1 }]);
        expect(shown(await tx.getMany('deal', 't1', ['c']))).toEqual(['c']);
        expect(shown((await tx.query('deal', 't1', { filter: { op: 'eq', field: 'scopeTeam', value: 'north' }, sort: [{ field: 'id' }] })).rows)).toEqual(['a', 'c']);
      });
      if (adapter.getMany) expect(shown(await adapter.getMany('deal', 't1', ['a', 'c']))).toEqual(['a', 'c']);
      // Written again without the field: it is gone (the column follows the row written).
      await adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'update', row: { ...dealRow('a', { ownerId: 'u1' }), version: 2 }, expectedVersion: 1 }]));
      expect(await keyed('north')).toEqual(['c']);
      expect(shown(await readAll(adapter, 'deal'))).toEqual(['a', 'b', 'c']);
      off();
      expect(batches.length).toBeGreaterThan(0);
      for (const batch of batches) shown(batch.changes.map((c) => (c.op === 'put' ? c.row : undefined)));
    });
  });
}
