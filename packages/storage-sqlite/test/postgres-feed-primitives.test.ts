import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, type Row, type StorageTx } from '@crmkit/core/storage';
import { checkCommitOrder } from '@crmkit/core/testing/conformance';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');

/**
 * The storage primitives of the change feed on PostgreSQL, where write transactions of different
 * connections really overlap: the sequence lock, skip-locked claims, and proof that the commit-order
 * check catches the trap of database sequences.
 */
describe('postgres: sequences and claims across connections', () => {
  const bed = createPostgresTestBed(url);
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });
  afterAll(() => bed.end());

  /** Adapters on one schema, each with its own pool: independent connections, like other processes. */
  async function adapters(count: number): Promise<StorageAdapter[]> {
    const schema = bed.schemaName('feedprim');
    cleanups.push(() => bed.dropSchema(schema));
    const out: StorageAdapter[] = [];
    for (let i = 0; i < count; i++) {
      const adapter = createPostgresStorage({ connectionString: url, schema, maxConnections: 3 });
      await adapter.open(CRM_STORAGE_SCHEMA);
      cleanups.push(() => adapter.close());
      out.push(adapter);
    }
    return out;
  }

  /** Keeps `tx` busy with reads until `done()` or `ms` passed (transactions may only await their own calls). */
  async function holdOpen(tx: StorageTx, done: () => boolean, ms: number): Promise<void> {
    const started = Date.now();
    while (!done() && Date.now() - started < ms) await tx.getMany('deal', 't1', ['probe']);
  }

  it('a second reservation waits for the first transaction to end and continues after its numbers', async () => {
    const [a, b] = (await adapters(2)) as [StorageAdapter, StorageAdapter];
    let bDone = false;
    let bGot = 0;
    let bDoneBeforeACommit: boolean | undefined;
    const first = a.transaction('rw', async (tx) => {
      const n = await tx.nextSequence('feed', 't1', 3);
      const second = b.transaction('rw', (btx) => btx.nextSequence('feed', 't1', 1)).then((got) => {
        bGot = got;
        bDone = true;
      });
      await holdOpen(tx, () => bDone, 600);
      bDoneBeforeACommit = bDone;
      return { n, second };
    });
    const { n, second } = await first;
    await second;
    expect(n).toBe(1);
    expect(bDoneBeforeACommit).toBe(false);
    expect(bGot).toBe(4);
  });

  it('the commit-order check misses nothing with nextSequence, and does catch a sequence without the lock', async () => {
    const writers = await adapters(4);
    const reader = writers[3]!;
    const good = await checkCommitOrder({ writers: writers.slice(0, 3), reader, transactions: 40 });
    expect(good.errors).toEqual([]);
    expect(good.missed).toEqual([]);
    expect(good.gaps).toBe(0);

    // The trap: numbers drawn from a counter outside the transaction (like nextval() of a SEQUENCE or
    // a serial column), so a later number can commit before an earlier one.
    let counter = 0;
    const unlocked = (adapter: StorageAdapter): StorageAdapter => ({
      ...adapter,
      transaction: (mode, fn) => adapter.transaction(mode, (tx) => fn({ ...bindTx(tx), nextSequence: async (_name, _tenant, count) => ((counter += count), counter - count + 1) })),
    });
    let caught = 0;
    for (let round = 0; round < 3 && caught === 0; round++) {
      const bad = await checkCommitOrder({ writers: writers.slice(0, 3).map(unlocked), reader, transactions: 40, tenantId: `trap${round}` });
      caught += bad.missed.length + bad.gaps;
    }
    expect(caught).toBeGreaterThan(0);
  });

  it('claims skip rows another open transaction locked instead of waiting for it', async () => {
    const [a, b] = (await adapters(2)) as [StorageAdapter, StorageAdapter];
    const row = (id: string): Row => ({ id, tenantId: 't1', version: 1, status: 'pending', createdAt: '2026-01-01T00:00:00.000Z' });
    await a.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'insert', row: row('a') }, { type: 'insert', row: row('b') }]));
    let bClaimed: string[] | undefined;
    let aOpenWhenBReturned: boolean | undefined;
    let aOpen = true;
    const aClaimed = await a.transaction('rw', async (tx) => {
      const rows = await tx.claim('deal', 't1', { filter: { op: 'eq', field: 'status', value: 'pending' }, sort: [{ field: 'id' }], limit: 1 });
      const other = b.transaction('rw', (btx) => btx.claim('deal', 't1', { filter: { op: 'eq', field: 'status', value: 'pending' }, sort: [{ field: 'id' }], limit: 1 })).then((got) => {
        bClaimed = got.map((r) => r.id);
        aOpenWhenBReturned = aOpen;
      });
      await holdOpen(tx, () => bClaimed !== undefined, 3000);
      void other;
      return rows.map((r) => r.id);
    });
    aOpen = false;
    const started = Date.now();
    while (bClaimed === undefined && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(aClaimed).toEqual(['a']);
    expect(bClaimed).toEqual(['b']);
    expect(aOpenWhenBReturned).toBe(true);
  });
});

/** A StorageTx whose methods stay bound to the original object when spread. */
function bindTx(tx: StorageTx): StorageTx {
  return {
    getMany: tx.getMany.bind(tx),
    query: tx.query.bind(tx),
    aggregate: tx.aggregate.bind(tx),
    write: tx.write.bind(tx),
    nextSequence: tx.nextSequence.bind(tx),
    claim: tx.claim.bind(tx),
    lockKeys: tx.lockKeys.bind(tx),
  };
}
