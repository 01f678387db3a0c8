import { isCrmError, type StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { readAll, recordBatches, rejection, row, seed, type IdbTestEnv } from './env.js';

type Patchable = Record<string, (...args: unknown[]) => unknown>;

/** Replaces a prototype method for the duration of one test. */
function patch(proto: object, method: string, make: (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown): () => void {
  const target = proto as Patchable;
  const original = target[method]!;
  target[method] = make(original);
  return () => (target[method] = original);
}

/** A write that fails while the batch is applied must roll all of it back and surface STORAGE. */
export function failureTests(env: IdbTestEnv): void {
  describe(`indexeddb failures mid-batch (${env.label})`, () => {
    let adapter: StorageAdapter;
    afterEach(() => adapter?.close());

    const batch = () =>
      adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'update', row: row('kept', { version: 2, title: 'changed' }), expectedVersion: 1 }]);
        await tx.write('deal', 't1', ['a', 'b', 'c', 'd', 'e'].map((id) => ({ type: 'insert' as const, row: row(id) })));
        await tx.write('event', 't1', [{ type: 'insert', row: row('e1', { refs: ['deal:a'] }) }]);
      });

    async function expectUntouched(): Promise<void> {
      expect(await readAll(adapter)).toEqual([row('kept', { title: 'before' })]);
      expect(await readAll(adapter, 'event')).toEqual([]);
      await seed(adapter, [row('after')]); // the adapter keeps working
      expect((await readAll(adapter)).map((r) => r.id)).toEqual(['after', 'kept']);
    }

    it('a QuotaExceededError on the third put rolls the whole batch back', async () => {
      adapter = createIndexedDbStorage(env.options());
      await adapter.open(CRM_STORAGE_SCHEMA);
      await seed(adapter, [row('kept', { title: 'before' })]);
      const batches = recordBatches(adapter);
      let puts = 0;
      const restore = patch(env.classes.IDBObjectStore.prototype, 'put', (original) =>
        function (this: unknown, ...args: unknown[]) {
          if (++puts === 3) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return original.apply(this, args);
        },
      );
      let error: unknown;
      try {
        error = await rejection(batch());
      } finally {
        restore();
      }
      expect(puts).toBe(3);
      expect(isCrmError(error, 'STORAGE') && error.details).toMatchObject({ adapter: 'indexeddb', retryable: false });
      expect(String((error as Error).message)).toContain('QuotaExceededError');
      expect(batches).toEqual([]);
      await expectUntouched();
    });

    it('a transaction aborted after the third put rolls the whole batch back with a retryable error', async () => {
      adapter = createIndexedDbStorage(env.options());
      await adapter.open(CRM_STORAGE_SCHEMA);
      await seed(adapter, [row('kept', { title: 'before' })]);
      const batches = recordBatches(adapter);
      let puts = 0;
      const restore = patch(env.classes.IDBObjectStore.prototype, 'put', (original) =>
        function (this: IDBObjectStore, ...args: unknown[]) {
          const request = original.apply(this, args);
          if (++puts === 3) this.transaction.abort();
          return request;
        },
      );
      let error: unknown;
      try {
        error = await rejection(batch());
      } finally {
        restore();
      }
      expect(isCrmError(error, 'STORAGE') && error.details.retryable).toBe(true);
      expect(batches).toEqual([]);
      await expectUntouched();
    });

    it('an abort at commit, after every write was applied, rolls everything back', async () => {
      adapter = createIndexedDbStorage(env.options());
      await adapter.open(CRM_STORAGE_SCHEMA);
      await seed(adapter, [row('kept', { title: 'before' })]);
      const batches = recordBatches(adapter);
      const restore = patch(env.classes.IDBTransaction.prototype, 'commit', () =>
        function (this: IDBTransaction) {
          this.abort();
        },
      );
      let error: unknown;
      try {
        error = await rejection(batch());
      } finally {
        restore();
      }
      expect(isCrmError(error, 'STORAGE') && error.details).toMatchObject({ retryable: true, operation: 'commit' });
      expect(batches).toEqual([]);
      await expectUntouched();
    });
  });
}
