import { describe, expect, it } from 'vitest';
import type { ChangeBatch, Row, StorageAdapter } from '../../storage/storage-adapter.js';
import { lockedPaths, scribble, snapshotOf } from '../ownership.js';
import { dealRow, seed, type Harness } from './harness.js';

/** A row with nested objects and arrays everywhere a caller's data can sit. */
function richRow(id: string, version = 1): Row {
  return dealRow(id, {
    version,
    title: `Deal ${id}`,
    value: { amount: 1000, currency: 'EUR' },
    tags: ['a', 'b'],
    lineItems: [{ name: 'Chair', quantity: 2, unitPrice: { amount: 500, currency: 'EUR' } }],
    custom: { features: ['x', 'y'], spec: { sizes: [1, 2], note: 'n' } },
  });
}

async function readBoth(adapter: StorageAdapter, id: string): Promise<[Row | undefined, Row | undefined]> {
  return adapter.transaction('r', async (tx) => {
    const [byId] = await tx.getMany('deal', 't1', [id]);
    const { rows } = await tx.query('deal', 't1', { filter: { op: 'eq', field: 'id', value: id } });
    return [byId, rows[0]];
  });
}

/** Who owns what: rows passed to `write` stay the caller's; rows handed out cannot change stored state. */
export function ownershipTests(h: Harness): void {
  describe('row ownership', () => {
    it('never freezes, changes or keeps the rows passed to write (insert and update)', async () => {
      const { adapter } = await h.open();
      const inserted = richRow('a');
      const before = snapshotOf(inserted);
      await seed(adapter, 'deal', [inserted]);
      expect(lockedPaths(inserted)).toEqual([]);
      expect(inserted).toEqual(before);
      // The caller reuses its object: stored state must not follow.
      expect(scribble(inserted)).toBeGreaterThan(0);
      expect(await readBoth(adapter, 'a')).toEqual([before, before]);

      const updated = richRow('a', 2);
      const afterUpdate = snapshotOf(updated);
      await adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'update', row: updated, expectedVersion: 1 }]));
      expect(lockedPaths(updated)).toEqual([]);
      scribble(updated);
      expect(await readBoth(adapter, 'a')).toEqual([afterUpdate, afterUpdate]);
    });

    it('keeps no reference to a written row inside the transaction either (staged reads)', async () => {
      const { adapter } = await h.open();
      const row = richRow('a');
      const before = snapshotOf(row);
      const seen = await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'insert', row }]);
        scribble(row);
        const [byId] = await tx.getMany('deal', 't1', ['a']);
        const { rows } = await tx.query('deal', 't1', { filter: { op: 'eq', field: 'id', value: 'a' } });
        return [byId, rows[0]];
      });
      expect(seen).toEqual([before, before]);
      expect(await readBoth(adapter, 'a')).toEqual([before, before]);
    });

    it('rows returned by getMany and query give no access to stored state', async () => {
      const { adapter } = await h.open();
      const original = richRow('a');
      await seed(adapter, 'deal', [original]);
      const expected = snapshotOf(original);
      const [byId, byQuery] = await readBoth(adapter, 'a');
      scribble(byId);
      scribble(byQuery);
      expect(await readBoth(adapter, 'a')).toEqual([expected, expected]);
      // The same inside a write transaction, where rows may come from the staged writes.
      await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'insert', row: richRow('b') }]);
        const [staged] = await tx.getMany('deal', 't1', ['b']);
        scribble(staged);
        const { rows } = await tx.query('deal', 't1', { filter: { op: 'eq', field: 'id', value: 'b' } });
        scribble(rows[0]);
      });
      expect(await readBoth(adapter, 'b')).toEqual([richRow('b'), richRow('b')]);
    });

    it('change batches carry rows no listener (and not the writer) can change for the others', async () => {
      const { adapter } = await h.open();
      const seenBySecond: unknown[] = [];
      adapter.onChange((batch: ChangeBatch) => batch.changes.forEach((c) => scribble(c.row)));
      adapter.onChange((batch: ChangeBatch) => batch.changes.forEach((c) => seenBySecond.push(snapshotOf(c.row))));
      const row = richRow('a');
      const before = snapshotOf(row);
      await seed(adapter, 'deal', [row]);
      expect(row).toEqual(before);
      expect(lockedPaths(row)).toEqual([]);
      expect(seenBySecond.filter((r) => r !== undefined)).toEqual([before]);
      expect(await readBoth(adapter, 'a')).toEqual([before, before]);
    });
  });
}
