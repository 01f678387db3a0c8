import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import { CRM_STORAGE_SCHEMA } from '../../storage/crm-schema.js';
import { checkCommitOrder } from './commit-order.js';
import { rejection, type Harness } from './harness.js';

/** `nextSequence`: per-tenant counters, gapless, held until commit so numbers appear in commit order. */
export function sequenceTests(h: Harness): void {
  describe('sequences', () => {
    it('hands out consecutive numbers from 1, per tenant and per name', async () => {
      const { adapter } = await h.open();
      const got = await adapter.transaction('rw', async (tx) => [
        await tx.nextSequence('feed', 't1', 1),
        await tx.nextSequence('feed', 't1', 3),
        await tx.nextSequence('feed', 't1', 1),
        await tx.nextSequence('feed', 't2', 2),
        await tx.nextSequence('other', 't1', 1),
      ]);
      expect(got).toEqual([1, 2, 5, 1, 1]);
      expect(await adapter.transaction('rw', (tx) => tx.nextSequence('feed', 't1', 1))).toBe(6);
      expect(await adapter.transaction('rw', (tx) => tx.nextSequence('feed', 't2', 1))).toBe(3);
    });

    it('rolls back with the transaction: no gaps', async () => {
      const { adapter } = await h.open();
      await adapter.transaction('rw', (tx) => tx.nextSequence('feed', 't1', 2));
      await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.nextSequence('feed', 't1', 5);
          throw new Error('rollback');
        }),
      );
      expect(await adapter.transaction('rw', (tx) => tx.nextSequence('feed', 't1', 1))).toBe(3);
    });

    it('is refused in read-only transactions (STORAGE) and for bad arguments (VALIDATION)', async () => {
      const { adapter } = await h.open();
      const readOnly = await rejection(adapter.transaction('r', (tx) => tx.nextSequence('feed', 't1', 1)));
      expect(isCrmError(readOnly, 'STORAGE')).toBe(true);
      for (const [name, count] of [['', 1], ['feed', 0], ['feed', 1.5], ['feed', -1], ['x'.repeat(101), 1]] as const) {
        const error = await rejection(adapter.transaction('rw', (tx) => tx.nextSequence(name, 't1', count)));
        expect(isCrmError(error, 'VALIDATION'), `${name.slice(0, 10)} ${count}`).toBe(true);
      }
      expect(await adapter.transaction('rw', (tx) => tx.nextSequence('feed', 't1', 1))).toBe(1);
    });

    it('survives reopening a durable adapter', async () => {
      const { adapter, subject } = await h.open();
      if (!subject.reopen) return;
      await adapter.transaction('rw', (tx) => tx.nextSequence('feed', 't1', 4));
      await adapter.close();
      const again = await subject.reopen();
      try {
        await again.open(CRM_STORAGE_SCHEMA);
        expect(await again.transaction('rw', (tx) => tx.nextSequence('feed', 't1', 1))).toBe(5);
      } finally {
        await again.close();
      }
    });

    it('numbers become visible in commit order: a tailing reader misses none, with concurrent writers', async () => {
      const { adapter, subject } = await h.open();
      const peers = [await h.openPeer(subject), await h.openPeer(subject)].filter((p) => p !== undefined);
      const writers = peers.length ? [adapter, ...peers] : [adapter, adapter, adapter];
      const report = await checkCommitOrder({ writers, reader: peers[0] ?? adapter, transactions: 25 });
      expect(report.errors).toEqual([]);
      expect(report.committed).toBe(writers.length * 25);
      expect(report.missed).toEqual([]);
      expect(report.gaps).toBe(0);
    });
  });
}
