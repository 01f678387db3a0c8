import { isCrmError, type StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createIndexedDbStorage, type IndexedDbStorageOptions } from '@crmkit/storage-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, readAll, recordBatches, rejection, row, seed, sleep, type IdbTestEnv } from './env.js';

/** The transaction rule (fn awaits only tx methods), all-or-nothing commits, lifecycle, cross-connection changes. */
export function transactionTests(env: IdbTestEnv): void {
  describe(`indexeddb transactions (${env.label})`, () => {
    let adapters: StorageAdapter[] = [];
    const make = async (options: IndexedDbStorageOptions = env.options()) => {
      const adapter = createIndexedDbStorage(options);
      adapters.push(adapter);
      await adapter.open(CRM_STORAGE_SCHEMA);
      return adapter;
    };
    afterEach(async () => {
      for (const adapter of adapters) await adapter.close();
      adapters = [];
    });
    const ids = async (adapter: StorageAdapter) => (await readAll(adapter)).map((r) => r.id);

    it('a foreign await between two writes gives a typed STORAGE error and stores nothing', async () => {
      const adapter = await make();
      await seed(adapter, [row('kept')]);
      const batches = recordBatches(adapter);
      let second: unknown;
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: row('a') }]);
          await new Promise((resolve) => setTimeout(resolve, 10));
          second = await rejection(tx.write('deal', 't1', [{ type: 'insert', row: row('b') }]));
          return 'caught it, so commit?';
        }),
      );
      expect(isCrmError(error, 'STORAGE')).toBe(true);
      expect(isCrmError(error, 'STORAGE') && error.details).toMatchObject({ adapter: 'indexeddb', retryable: false });
      expect(second).toBe(error);
      expect(await ids(adapter)).toEqual(['kept']);
      expect(batches).toEqual([]);
    });

    it('a foreign await after the last write rejects at commit and stores nothing', async () => {
      const adapter = await make();
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: row('a') }, { type: 'insert', row: row('b') }]);
          await sleep(10);
          return 1;
        }),
      );
      expect(isCrmError(error, 'STORAGE') && error.details.retryable).toBe(false);
      expect(await ids(adapter)).toEqual([]);
    });

    it('a foreign await in a read transaction rejects the next read with STORAGE', async () => {
      const adapter = await make();
      await seed(adapter, [row('a')]);
      const error = await rejection(
        adapter.transaction('r', async (tx) => {
          await tx.getMany('deal', 't1', ['a']);
          await sleep(10);
          return tx.query('deal', 't1', {});
        }),
      );
      expect(isCrmError(error, 'STORAGE')).toBe(true);
    });

    it('microtask awaits between tx calls are fine: the transaction stays active', async () => {
      const adapter = await make();
      await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'insert', row: row('a') }]);
        await Promise.resolve();
        await null;
        await (async () => 'nested async function')();
        const [a] = await tx.getMany('deal', 't1', ['a']);
        await tx.write('deal', 't1', [{ type: 'update', row: row('a', { version: 2 }), expectedVersion: a!.version }, { type: 'insert', row: row('b') }]);
      });
      expect((await readAll(adapter)).map((r) => [r.id, r.version])).toEqual([['a', 2], ['b', 1]]);
    });

    it('rejects writes in a read-only transaction with STORAGE', async () => {
      const adapter = await make();
      const error = await rejection(adapter.transaction('r', (tx) => tx.write('deal', 't1', [{ type: 'insert', row: row('a') }])));
      expect(isCrmError(error, 'STORAGE')).toBe(true);
      expect(await ids(adapter)).toEqual([]);
    });

    it('a row IndexedDB cannot clone fails the whole transaction with STORAGE', async () => {
      const adapter = await make();
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: row('a') }]);
          await tx.write('deal', 't1', [{ type: 'insert', row: row('b', { callback: () => 1 }) }]);
        }),
      );
      expect(isCrmError(error, 'STORAGE') && error.details.retryable).toBe(false);
      expect(await ids(adapter)).toEqual([]);
    });

    it('rejects use before open with STORAGE, calls after close with CLOSED, and closes idempotently', async () => {
      const adapter = createIndexedDbStorage(env.options());
      expect(isCrmError(await rejection(adapter.transaction('r', async () => 1)), 'STORAGE')).toBe(true);
      await adapter.open(CRM_STORAGE_SCHEMA);
      await adapter.close();
      await adapter.close();
      expect(isCrmError(await rejection(adapter.transaction('r', async () => 1)), 'CLOSED')).toBe(true);
      expect(isCrmError(await rejection(adapter.open(CRM_STORAGE_SCHEMA)), 'CLOSED')).toBe(true);
    });

    it('a tx call after close inside a running transaction rejects with CLOSED and commits nothing', async () => {
      const options = env.options();
      const adapter = await make(options);
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: row('a') }]);
          void adapter.close();
          await tx.write('deal', 't1', [{ type: 'insert', row: row('b') }]);
        }),
      );
      expect(isCrmError(error, 'CLOSED')).toBe(true);
      expect(await ids(await make(options))).toEqual([]);
    });

    it('delivers commits of another connection to onChange as external batches', async () => {
      const options = env.options();
      const writer = await make(options);
      const reader = await make(options);
      expect(reader.capabilities.externalChanges).toBe(true);
      const batches = recordBatches(reader);
      await seed(writer, [row('x'), row('y')]);
      await writer.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'delete', id: 'x' }]));
      await eventually(() =>
        expect(batches).toEqual([
          { source: 'external', changes: [{ entity: 'deal', tenantId: 't1', id: 'x', op: 'put' }, { entity: 'deal', tenantId: 't1', id: 'y', op: 'put' }] },
          { source: 'external', changes: [{ entity: 'deal', tenantId: 't1', id: 'x', op: 'delete' }] },
        ]),
      );
      expect(await ids(reader)).toEqual(['y']);
    });

    it('serialises writers of two connections on the same database: no lost update', async () => {
      const options = env.options();
      const a = await make(options);
      const b = await make(options);
      await seed(a, [row('n', { postponeCount: 0 })]);
      const increment = (adapter: StorageAdapter) =>
        adapter.transaction('rw', async (tx) => {
          const [current] = await tx.getMany('deal', 't1', ['n']);
          await tx.write('deal', 't1', [
            { type: 'update', row: { ...current!, version: current!.version + 1, postponeCount: (current!.postponeCount as number) + 1 }, expectedVersion: current!.version },
          ]);
        });
      await Promise.all(Array.from({ length: 8 }, (_, i) => increment(i % 2 ? a : b)));
      expect((await readAll(b))[0]).toMatchObject({ postponeCount: 8, version: 9 });
    });
  });
}
