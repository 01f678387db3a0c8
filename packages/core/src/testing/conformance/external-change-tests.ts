import { describe, expect, it } from 'vitest';
import type { ChangeBatch, StorageAdapter } from '../../storage/storage-adapter.js';
import { dealRow, rejection, seed, type Harness } from './harness.js';

/** Waits until `done()` or fails after `ms`. */
async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const listed = (batches: readonly ChangeBatch[]) => batches.flatMap((b) => b.changes.map((c) => `${c.entity}:${c.tenantId}:${c.id}:${c.op}`));

/**
 * External changes: what another connection, process or tab commits reaches `onChange` as `external`
 * batches. Runs for adapters that declare `externalChanges` and whose subject has a `peer`.
 */
export function externalChangeTests(h: Harness): void {
  describe('external changes', () => {
    const subjectWithPeer = async (): Promise<{ adapter: StorageAdapter; peer: StorageAdapter } | undefined> => {
      if (!h.capabilities.externalChanges) return undefined;
      const { adapter, subject } = await h.open();
      const peer = await h.openPeer(subject);
      if (!peer) throw new Error('an adapter that declares externalChanges needs a conformance subject with peer()');
      return { adapter, peer };
    };

    it('another connection’s commits arrive as external batches, in commit order, each change listed', async () => {
      const pair = await subjectWithPeer();
      if (!pair) return;
      const { adapter, peer } = pair;
      const batches: ChangeBatch[] = [];
      adapter.onChange((b) => {
        if (b.source === 'external') batches.push(b);
      });
      await seed(peer, 'deal', [dealRow('a'), dealRow('b')]);
      await peer.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'update', row: dealRow('a', { version: 2 }), expectedVersion: 1 }]);
        await tx.write('contact', 't2', [{ type: 'insert', row: dealRow('c', {}, 't2') }]);
        await tx.write('deal', 't1', [{ type: 'delete', id: 'b' }]);
      });
      await until(() => listed(batches).length >= 5 || batches.some((b) => b.resync === true));
      expect(batches.some((b) => b.resync)).toBe(false);
      expect(listed(batches)).toEqual(['deal:t1:a:put', 'deal:t1:b:put', 'deal:t1:a:put', 'contact:t2:c:put', 'deal:t1:b:delete']);
      // Rows may be omitted; when given they are the committed ones.
      for (const change of batches.flatMap((b) => b.changes)) if (change.row) expect(change.row.id).toBe(change.id);
    });

    it('reports neither rolled-back work nor the adapter’s own commits as external', async () => {
      const pair = await subjectWithPeer();
      if (!pair) return;
      const { adapter, peer } = pair;
      const external: ChangeBatch[] = [];
      const peerExternal: ChangeBatch[] = [];
      adapter.onChange((b) => void (b.source === 'external' && external.push(b)));
      peer.onChange((b) => void (b.source === 'external' && peerExternal.push(b)));
      await rejection(
        peer.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('gone') }]);
          throw new Error('rollback');
        }),
      );
      await seed(adapter, 'deal', [dealRow('mine')]);
      await seed(peer, 'deal', [dealRow('marker')]);
      await until(() => listed(external).includes('deal:t1:marker:put') && listed(peerExternal).includes('deal:t1:mine:put'));
      expect(listed(external)).toEqual(['deal:t1:marker:put']);
      expect(listed(peerExternal)).toEqual(['deal:t1:mine:put']);
    });
  });
}
