import type { Row, StorageAdapter } from '../../storage/storage-adapter.js';

/** What `checkCommitOrder` saw. */
export interface CommitOrderReport {
  /** Numbers the writers committed. */
  readonly committed: number;
  /** Numbers the tailing reader never saw: it had already moved its checkpoint past them. */
  readonly missed: readonly number[];
  /** Reads that returned a number while a smaller one, after the checkpoint, was not yet visible. */
  readonly gaps: number;
  /** Errors the writers or the reader met (none expected). */
  readonly errors: readonly string[];
}

export interface CommitOrderOptions {
  /** Adapters that write concurrently (another process's connection each); at least one. */
  readonly writers: readonly StorageAdapter[];
  /** The adapter the tailing reader uses. */
  readonly reader: StorageAdapter;
  /** Transactions per writer (default 40). */
  readonly transactions?: number;
  readonly tenantId?: string;
}

const describeError = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Tails numbers reserved with `nextSequence` while several writers commit them, the way a feed
 * consumer does: read rows with `position` above the checkpoint in position order, move the
 * checkpoint to the last one seen. Each writer reserves a number, then keeps its transaction open for
 * a random number of reads before it writes the row and commits, so that a later reservation can
 * commit first. With the contract's lock, that cannot happen and the reader misses nothing; with a
 * plain database sequence it does. Used by the conformance suite and by tests that prove it catches
 * the trap.
 *
 * @param options The writers, the reader and the amount of work.
 * @returns What the reader saw and missed.
 */
export async function checkCommitOrder(options: CommitOrderOptions): Promise<CommitOrderReport> {
  const tenantId = options.tenantId ?? 't1';
  const perWriter = options.transactions ?? 40;
  const errors: string[] = [];
  const seen = new Set<number>();
  const missed: number[] = [];
  let gaps = 0;
  let checkpoint = 0;
  let writing = true;
  let committed = 0;

  const writer = async (adapter: StorageAdapter, w: number) => {
    for (let i = 0; i < perWriter; i++) {
      try {
        await adapter.transaction('rw', async (tx) => {
          const position = await tx.nextSequence('commitOrder', tenantId, 1);
          // Hold the reservation open for a while: only transaction calls may be awaited here.
          const reads = (i * 7 + w * 3) % 6;
          for (let r = 0; r < reads; r++) await tx.getMany('event', tenantId, [`evt_probe_${r}`]);
          const row: Row = { id: `evt_w${w}_${i}`, tenantId, version: 1, createdAt: '2026-01-01T00:00:00.000Z', type: 'probe.committed', position, refs: [] };
          await tx.write('event', tenantId, [{ type: 'insert', row }]);
        });
        committed++;
      } catch (error) {
        errors.push(describeError(error));
      }
    }
  };

  const tail = async () => {
    const pass = async () => {
      const rows = await options.reader.transaction('r', async (tx) =>
        (await tx.query('event', tenantId, { filter: { op: 'gt', field: 'position', value: checkpoint }, sort: [{ field: 'position' }], limit: 50 })).rows,
      );
      let expected = checkpoint + 1;
      for (const row of rows) {
        const position = row.position as number;
        if (position !== expected) gaps++;
        expected = position + 1;
        seen.add(position);
        checkpoint = position;
      }
      return rows.length;
    };
    try {
      while (writing) await pass();
      while ((await pass()) > 0);
    } catch (error) {
      errors.push(describeError(error));
    }
  };

  const reading = tail();
  await Promise.all(options.writers.map((adapter, w) => writer(adapter, w)));
  writing = false;
  await reading;
  const all = await options.reader.transaction('r', async (tx) =>
    (await tx.query('event', tenantId, { filter: { op: 'eq', field: 'type', value: 'probe.committed' } })).rows.map((r) => r.position as number),
  );
  for (const position of all) if (!seen.has(position)) missed.push(position);
  return { committed, missed: missed.sort((a, b) => a - b), gaps, errors };
}
