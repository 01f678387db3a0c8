import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import type { Filter } from '../../query/query-spec.js';
import type { StorageAdapter } from '../../storage/storage-adapter.js';
import { dealRow, readAll, rejection, seed, type Harness } from './harness.js';

const pending: Filter = { op: 'eq', field: 'status', value: 'pending' };

/** Claims one pending deal row and marks it taken by `worker`; false when none is left. */
async function takeOne(adapter: StorageAdapter, worker: string): Promise<boolean> {
  return adapter.transaction('rw', async (tx) => {
    const [row] = await tx.claim('deal', 't1', { filter: pending, sort: [{ field: 'id' }], limit: 1 });
    if (!row) return false;
    await tx.write('deal', 't1', [{ type: 'update', row: { ...row, version: row.version + 1, status: 'taken', ownerId: worker }, expectedVersion: row.version }]);
    return true;
  });
}

/** `claim`: rows for a worker, locked until commit, rows locked elsewhere skipped. */
export function claimTests(h: Harness): void {
  describe('claims', () => {
    it('returns matching rows in sort order, at most limit, seeing the transaction’s own writes', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ['d', 'a', 'c', 'b', 'e'].map((id, i) => dealRow(id, { status: id === 'c' ? 'taken' : 'pending', postponeCount: i })));
      const rows = await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('aa', { status: 'pending', postponeCount: 9 }) }]);
        return tx.claim('deal', 't1', { filter: pending, sort: [{ field: 'postponeCount', direction: 'desc' }], limit: 3 });
      });
      expect(rows.map((r) => r.id)).toEqual(['aa', 'e', 'b']);
      const all = await adapter.transaction('rw', (tx) => tx.claim('deal', 't1', { filter: pending, sort: [{ field: 'id' }] }));
      expect(all.map((r) => r.id)).toEqual(['a', 'aa', 'b', 'd', 'e']);
      const otherTenant = await adapter.transaction('rw', (tx) => tx.claim('deal', 't2', { filter: pending }));
      expect(otherTenant).toEqual([]);
    });

    it('is refused in read-only transactions with STORAGE', async () => {
      const { adapter } = await h.open();
      const error = await rejection(adapter.transaction('r', (tx) => tx.claim('deal', 't1', { filter: pending, limit: 1 })));
      expect(isCrmError(error, 'STORAGE')).toBe(true);
    });

    it('a row claimed and changed by one transaction is not claimed by the next one', async () => {
      const { adapter, subject } = await h.open();
      const peer = (await h.openPeer(subject)) ?? adapter;
      await seed(adapter, 'deal', [dealRow('a', { status: 'pending' }), dealRow('b', { status: 'pending' })]);
      expect(await takeOne(adapter, 'w1')).toBe(true);
      expect(await takeOne(peer, 'w2')).toBe(true);
      expect(await takeOne(peer, 'w2')).toBe(false);
      expect((await readAll(adapter, 'deal')).map((r) => [r.id, r.ownerId])).toEqual([
        ['a', 'w1'],
        ['b', 'w2'],
      ]);
    });

    it('workers racing over one queue (other connections too) take every row exactly once, without CONFLICT', async () => {
      const { adapter, subject } = await h.open();
      const peers = [await h.openPeer(subject), await h.openPeer(subject)].filter((p) => p !== undefined);
      const adapters = peers.length ? [adapter, ...peers, adapter] : [adapter, adapter, adapter, adapter];
      const ids = Array.from({ length: 60 }, (_, i) => `q${String(i).padStart(3, '0')}`);
      await seed(adapter, 'deal', ids.map((id) => dealRow(id, { status: 'pending' })));
      const errors: string[] = [];
      const taken = new Map<string, number>();
      await Promise.all(
        adapters.map(async (worker, w) => {
          for (;;) {
            try {
              if (!(await takeOne(worker, `w${w}`))) return;
              taken.set(`w${w}`, (taken.get(`w${w}`) ?? 0) + 1);
            } catch (error) {
              errors.push(error instanceof Error ? error.message : String(error));
              if (errors.length > 5) return;
            }
          }
        }),
      );
      expect(errors).toEqual([]);
      const rows = await readAll(adapter, 'deal');
      expect(rows.map((r) => [r.id, r.status, r.version])).toEqual(ids.map((id) => [id, 'taken', 2]));
      expect([...taken.values()].reduce((a, b) => a + b, 0)).toBe(ids.length);
    });
  });
}
