import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import type { StorageAdapter } from '../../storage/storage-adapter.js';
import { dealRow, readAll, rejection, type Harness } from './harness.js';

/** Adds 1 to deal `id`'s `postponeCount` (creating it at 1) after locking `keys`: a check-then-write no unique index guards. */
async function bump(adapter: StorageAdapter, keys: readonly string[], ids: readonly string[]): Promise<void> {
  await adapter.transaction('rw', async (tx) => {
    await tx.lockKeys('t1', keys);
    for (const id of ids) {
      const [row] = await tx.getMany('deal', 't1', [id]);
      const next = row ? { ...row, version: row.version + 1, postponeCount: (row.postponeCount as number) + 1 } : dealRow(id, { postponeCount: 1 });
      await tx.write('deal', 't1', [row ? { type: 'update', row: next, expectedVersion: row.version } : { type: 'insert', row: next }]);
    }
  });
}

/** `lockKeys`: keyed locks held until the transaction ends, taken in one order. */
export function lockKeyTests(h: Harness): void {
  describe('keyed locks', () => {
    it('is refused in read-only transactions with STORAGE', async () => {
      const { adapter } = await h.open();
      const error = await rejection(adapter.transaction('r', (tx) => tx.lockKeys('t1', ['contact:email:ada@example.org'])));
      expect(isCrmError(error, 'STORAGE')).toBe(true);
      await adapter.transaction('rw', (tx) => tx.lockKeys('t1', []));
    });

    it('writers locking one key run their check-then-write one at a time (other connections too): no CONFLICT, nothing lost', async () => {
      const { adapter, subject } = await h.open();
      const peers = [await h.openPeer(subject), await h.openPeer(subject)].filter((p) => p !== undefined);
      const adapters = peers.length ? [adapter, ...peers, adapter] : [adapter, adapter, adapter, adapter];
      await Promise.all(adapters.map(async (a) => {
        for (let i = 0; i < 8; i++) await bump(a, ['contact:email:ada@example.org'], ['counter']);
      }));
      expect((await readAll(adapter, 'deal')).map((r) => [r.id, r.postponeCount])).toEqual([['counter', adapters.length * 8]]);
    });

    it('a key the transaction holds already is taken again at once (the services lock a record once per link they check)', async () => {
      const { adapter } = await h.open();
      await adapter.transaction('rw', async (tx) => {
        await tx.lockKeys('t1', ['contact:c1', 'company:k1']);
        await tx.lockKeys('t1', ['company:k1']);
        await tx.lockKeys('t1', ['contact:c1', 'lead:l1']);
      });
      await bump(adapter, ['contact:c1'], ['after']);
      expect((await readAll(adapter, 'deal')).map((r) => r.id)).toEqual(['after']);
    });

    it('shared keys: refused in read-only transactions, taken by writers beside exclusive ones (other connections too), held shared then exclusively by one transaction', async () => {
      const { adapter, subject } = await h.open();
      expect(isCrmError(await rejection(adapter.transaction('r', (tx) => tx.lockKeys('t1', ['config'], true))), 'STORAGE')).toBe(true);
      const peer = (await h.openPeer(subject)) ?? adapter;
      // Shared holders read the counter twice: an exclusive writer of the key never commits in between.
      const reads: [unknown, unknown][] = [];
      await Promise.all([
        (async () => { for (let i = 0; i < 8; i++) await bump(adapter, ['config'], ['counter']); })(),
        (async () => {
          for (let i = 0; i < 8; i++) {
            await peer.transaction('rw', async (tx) => {
              await tx.lockKeys('t1', ['config'], true);
              const [first] = await tx.getMany('deal', 't1', ['counter']);
              await tx.query('deal', 't1', { limit: 10 });
              const [second] = await tx.getMany('deal', 't1', ['counter']);
              reads.push([first?.postponeCount, second?.postponeCount]);
            });
          }
        })(),
      ]);
      expect(reads.filter(([a, b]) => a !== b)).toEqual([]);
      await adapter.transaction('rw', async (tx) => {
        await tx.lockKeys('t1', ['config'], true);
        await tx.lockKeys('t1', ['config']);
      });
      expect((await readAll(adapter, 'deal')).map((r) => [r.id, r.postponeCount])).toEqual([['counter', 8]]);
    });

    it('sets locked in opposite orders wait for each other instead of deadlocking', async () => {
      const { adapter, subject } = await h.open();
      const peer = (await h.openPeer(subject)) ?? adapter;
      await Promise.all([
        (async () => { for (let i = 0; i < 8; i++) await bump(adapter, ['k:a', 'k:b', 'k:a'], ['a', 'b']); })(),
        (async () => { for (let i = 0; i < 8; i++) await bump(peer, ['k:b', 'k:a'], ['b', 'a']); })(),
      ]);
      expect((await readAll(adapter, 'deal')).map((r) => [r.id, r.postponeCount])).toEqual([['a', 16], ['b', 16]]);
    });
  });
}
