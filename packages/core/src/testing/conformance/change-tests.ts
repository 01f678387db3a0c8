import { describe, expect, it } from 'vitest';
import type { ChangeBatch } from '../../storage/storage-adapter.js';
import { dealRow, rejection, seed, type Harness } from './harness.js';

/** Change batches: after commit, once per transaction, never for rolled-back or read-only work. */
export function changeTests(h: Harness): void {
  describe('change batches', () => {
    it('delivers one batch per committed transaction with its changes in write order', async () => {
      const { adapter } = await h.open();
      const batches: ChangeBatch[] = [];
      adapter.onChange((b) => batches.push(b));
      await seed(adapter, 'deal', [dealRow('a')]);
      await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'update', row: dealRow('a', { version: 2, title: 'x' }), expectedVersion: 1 }]);
        await tx.write('contact', 't1', [{ type: 'insert', row: dealRow('c1', { name: 'Ada' }) }]);
        await tx.write('deal', 't1', [{ type: 'delete', id: 'a' }]);
      });
      const local = batches.filter((b) => b.source === 'local');
      expect(local.map((b) => b.changes.map((c) => [c.entity, c.id, c.op, c.tenantId]))).toEqual([
        [['deal', 'a', 'put', 't1']],
        [
          ['deal', 'a', 'put', 't1'],
          ['contact', 'c1', 'put', 't1'],
          ['deal', 'a', 'delete', 't1'],
        ],
      ]);
      expect(local[1]!.changes[0]!.row).toEqual(dealRow('a', { version: 2, title: 'x' }));
    });

    it('is silent for rolled-back and read-only transactions, and after unsubscribe', async () => {
      const { adapter } = await h.open();
      const batches: ChangeBatch[] = [];
      const off = adapter.onChange((b) => batches.push(b));
      await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('a') }]);
          throw new Error('rollback');
        }),
      );
      await adapter.transaction('r', (tx) => tx.getMany('deal', 't1', ['a']));
      await adapter.transaction('rw', async () => undefined);
      expect(batches.filter((b) => b.source === 'local')).toEqual([]);
      off();
      await seed(adapter, 'deal', [dealRow('b')]);
      expect(batches.filter((b) => b.source === 'local')).toEqual([]);
    });

    it('calls listeners after the commit is visible to new transactions', async () => {
      const { adapter } = await h.open();
      const seen: unknown[] = [];
      const pending: Promise<void>[] = [];
      adapter.onChange((batch) => {
        if (batch.source !== 'local') return;
        pending.push(adapter.transaction('r', async (tx) => void seen.push((await tx.getMany('deal', 't1', ['a']))[0]?.id)));
      });
      await seed(adapter, 'deal', [dealRow('a')]);
      await Promise.all(pending);
      expect(seen).toEqual(['a']);
    });

    it('keeps other listeners running when one throws', async () => {
      const { adapter } = await h.open();
      const errors = console.error;
      console.error = () => {};
      try {
        const seen: number[] = [];
        adapter.onChange(() => {
          throw new Error('listener bug');
        });
        adapter.onChange((b) => seen.push(b.changes.length));
        await seed(adapter, 'deal', [dealRow('a'), dealRow('b')]);
        expect(seen).toEqual([2]);
      } finally {
        console.error = errors;
      }
    });
  });
}
