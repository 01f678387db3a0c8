import { isCrmError, type StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, type StorageSchema } from '@crmkit/core/storage';
import { createIndexedDbStorage, type IndexedDbStorageOptions } from '@crmkit/storage-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { countReads } from './read-counter.js';
import { deleteDatabase, rawOpen, readAll, rejection, row, seed, spyOpens, type IdbTestEnv } from './env.js';

/** The schema with one more deal index (on `title`), as a newer app version would ship it. */
export const SCHEMA_V2: StorageSchema = {
  version: CRM_STORAGE_SCHEMA.version + 1,
  entities: CRM_STORAGE_SCHEMA.entities.map((e) => (e.name === 'deal' ? { ...e, indexes: [...e.indexes, { name: 'title', fields: ['title'] }] } : e)),
};

/** Versioned upgrades, blocked upgrades, versionchange and lost connections. */
export function upgradeTests(env: IdbTestEnv): void {
  describe(`indexeddb connections and upgrades (${env.label})`, () => {
    let adapters: StorageAdapter[] = [];
    const make = async (options: IndexedDbStorageOptions, schema: StorageSchema = CRM_STORAGE_SCHEMA) => {
      const adapter = createIndexedDbStorage(options);
      adapters.push(adapter);
      await adapter.open(schema);
      return adapter;
    };
    afterEach(async () => {
      for (const adapter of adapters) await adapter.close();
      adapters = [];
    });
    const ids = async (adapter: StorageAdapter) => (await readAll(adapter)).map((r) => r.id);

    it('a blocked upgrade rejects with a retryable STORAGE error within the timeout, and succeeds once unblocked', async () => {
      const options = env.options({ blockedTimeoutMs: 300 });
      const old = await rawOpen(options.indexedDB, options.name, 1); // an old tab that never closes on versionchange
      const adapter = createIndexedDbStorage(options);
      adapters.push(adapter);
      const started = Date.now();
      const error = await rejection(adapter.open(CRM_STORAGE_SCHEMA));
      expect(isCrmError(error, 'STORAGE') && error.details).toMatchObject({ retryable: true, operation: 'open' });
      expect(Date.now() - started).toBeLessThan(5000);
      old.close();
      await adapter.open(CRM_STORAGE_SCHEMA);
      await seed(adapter, [row('a')]);
      expect(await ids(adapter)).toEqual(['a']);
    });

    it('closes its connection on versionchange so a newer version can upgrade; the old adapter then fails fast', async () => {
      const options = env.options({ blockedTimeoutMs: 2000 });
      const v1 = await make(options);
      await seed(v1, [row('b', { title: 'Beta' }), row('a', { title: 'Alpha' })]);
      const v2 = await make(options, SCHEMA_V2);
      expect(await ids(v2)).toEqual(['a', 'b']);
      const error = await rejection(v1.transaction('r', (tx) => tx.getMany('deal', 't1', ['a'])));
      expect(isCrmError(error, 'STORAGE') && error.details.retryable).toBe(false);
    });

    it('an added index covers the rows stored before the upgrade', async () => {
      const options = env.options();
      const v1 = await make(options);
      const titles = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
      await seed(v1, titles.map((title, i) => row(`d${i}`, { title })));
      await v1.close();
      const v2 = await make(options, SCHEMA_V2);
      const reads = countReads(env);
      try {
        const page = await v2.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'title' }], limit: 2 }));
        expect(page.rows.map((r) => r.title)).toEqual(['alpha', 'bravo']);
        expect(reads.records).toBeLessThanOrEqual(3); // walked the new index, not the store
        const { rows } = await v2.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'eq', field: 'title', value: 'echo' } }));
        expect(rows.map((r) => r.id)).toEqual(['d2']);
      } finally {
        reads.restore();
      }
    });

    it('answers correctly when a schema gained an index without a version bump, and builds it at the next version', async () => {
      const options = env.options();
      await seed(await make(options), [row('b', { title: 'Beta' }), row('a', { title: 'Alpha' })]);
      const warnings: unknown[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => warnings.push(args);
      try {
        const sameVersion: StorageSchema = { ...SCHEMA_V2, version: CRM_STORAGE_SCHEMA.version };
        const forgotten = await make(options, sameVersion);
        const page = await forgotten.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'title' }], limit: 1 }));
        expect(page.rows.map((r) => r.id)).toEqual(['a']);
        expect(String(warnings[0])).toContain('deal.title');
      } finally {
        console.warn = warn;
      }
      const next = await make(options, { ...SCHEMA_V2, version: CRM_STORAGE_SCHEMA.version + 1 });
      const reads = countReads(env);
      try {
        const page = await next.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'title', direction: 'desc' }], limit: 1 }));
        expect(page.rows.map((r) => r.id)).toEqual(['b']);
        expect(reads.records).toBeLessThanOrEqual(2);
      } finally {
        reads.restore();
      }
    });

    it('a database of schema 7 (before external refs) gets the unique external keys: old rows stay and are indexed', async () => {
      const v7: StorageSchema = {
        version: 7,
        entities: CRM_STORAGE_SCHEMA.entities.map(({ unique: _unique, ...e }) => ({
          ...e,
          fields: Object.fromEntries(Object.entries(e.fields).filter(([f]) => f !== 'externalKeys')),
          indexes: e.indexes.filter((i) => i.name !== 'externalKeys'),
        })),
      };
      const options = env.options();
      const old = await make(options, v7);
      // A row written by old code that already carried the field is indexed by the upgrade.
      await seed(old, [row('c1', { name: 'Old' }), row('c2', { name: 'Keyed', externalKeys: ['shop:1'] })], 'contact');
      await old.close();
      const next = await make(options);
      expect((await readAll(next, 'contact')).map((r) => r.id)).toEqual(['c1', 'c2']);
      const error = await rejection(seed(next, [row('c3', { externalKeys: ['shop:1'] })], 'contact'));
      expect(isCrmError(error, 'CONFLICT') && error.details.key).toMatchObject({ field: 'externalKeys', value: 'shop:1', heldBy: 'c2' });
      await seed(next, [row('c3', { externalKeys: ['shop:2'] })], 'contact');
      expect((await readAll(next, 'contact')).map((r) => r.id)).toEqual(['c1', 'c2', 'c3']);
    });

    it('a database of schema 8 (before the merge log) gets the merge store and the link indexes; old rows stay', async () => {
      const v8: StorageSchema = {
        version: 8,
        entities: CRM_STORAGE_SCHEMA.entities
          .filter((e) => e.name !== 'merge')
          .map((e) => ({ ...e, indexes: e.indexes.filter((i) => !(e.name === 'deal' && i.name === 'lead') && !(e.name === 'lead' && i.name === 'convertedCompany')) })),
      };
      const options = env.options();
      const old = await make(options, v8);
      await seed(old, [row('d1', { leadId: 'l1' }), row('d2', { leadId: 'l2' })], 'deal');
      await old.close();
      const next = await make(options);
      await seed(next, [row('m1', { entity: 'contact', survivorId: 'c1', status: 'merged' })], 'merge');
      expect((await readAll(next, 'merge')).map((r) => r.id)).toEqual(['m1']);
      const byLead = await next.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'eq', field: 'leadId', value: 'l2' }, sort: [{ field: 'id' }] }));
      expect(byLead.rows.map((r) => r.id)).toEqual(['d2']);
    });

    it('a database of schema 11 (before device sync) gets the five sync stores; old rows stay, the new stores are queryable by their indexes', async () => {
      const SYNC = ['syncChange', 'syncClient', 'syncCommand', 'syncShadow', 'syncTag'];
      const options = env.options();
      const old = await make(options, { version: 11, entities: CRM_STORAGE_SCHEMA.entities.filter((e) => !SYNC.includes(e.name)) });
      await seed(old, [row('d1'), row('d2')]);
      await old.close();
      const next = await make(options);
      expect(await ids(next)).toEqual(['d1', 'd2']);
      await seed(next, [row('c2', { seq: 2, name: 'deals.advance', status: 'pending', applied: true }), row('c1', { seq: 1, name: 'deals.create', status: 'rejected', applied: false })], 'syncCommand');
      await seed(next, [row('deal:d1', { entity: 'deal', recordId: 'd1' })], 'syncShadow');
      const pending = await next.transaction('r', (tx) => tx.query('syncCommand', 't1', { filter: { op: 'eq', field: 'status', value: 'pending' }, sort: [{ field: 'seq' }] }));
      expect(pending.rows.map((r) => r.id)).toEqual(['c2']);
      expect((await readAll(next, 'syncShadow')).map((r) => r.id)).toEqual(['deal:d1']);
    });

    it('schema 12 → 13: syncChange loses its tx/tomb indexes and gets the sparse tombstone index; old rows stay, prune\'s and pull\'s queries answer', async () => {
      const v12: StorageSchema = {
        version: 12,
        entities: CRM_STORAGE_SCHEMA.entities.map((e) => (e.name === 'syncChange' ? { ...e, fields: { updatedAt: 'string', position: 'number', txPosition: 'number', entity: 'string', recordId: 'string', deleted: 'boolean' }, indexes: [{ name: 'position', fields: ['position'] }, { name: 'tx', fields: ['txPosition', 'position'] }, { name: 'tomb', fields: ['deleted', 'updatedAt'] }] } : e)),
      };
      const change = (id: string, position: number, extra: Record<string, unknown>) => row(id, { position, txPosition: position, entity: 'deal', recordId: id.slice(5), ...extra });
      const options = env.options();
      const old = await make(options, v12);
      await seed(old, [change('deal:d1', 1, { deleted: false }), change('deal:d2', 2, { deleted: true })], 'syncChange');
      await old.close();
      const next = await make(options);
      await seed(next, [change('deal:d3', 3, {}), change('deal:d4', 4, { deleted: true })], 'syncChange');
      const tombs = await next.transaction('r', (tx) => tx.query('syncChange', 't1', { filter: { op: 'and', filters: [{ op: 'eq', field: 'deleted', value: true }, { op: 'lt', field: 'updatedAt', value: '2027' }] }, sort: [{ field: 'updatedAt' }, { field: 'id' }] }));
      expect(tombs.rows.map((r) => r.id)).toEqual(['deal:d2', 'deal:d4']);
      const byPosition = await next.transaction('r', (tx) => tx.query('syncChange', 't1', { filter: { op: 'gt', field: 'position', value: 0 }, sort: [{ field: 'position' }] }));
      expect(byPosition.rows.map((r) => r.id)).toEqual(['deal:d1', 'deal:d2', 'deal:d3', 'deal:d4']);
      const db = await rawOpen(options.indexedDB, options.name);
      try {
        const { indexNames } = db.transaction('syncChange').objectStore('syncChange');
        const names = Array.from({ length: indexNames.length }, (_, i) => indexNames.item(i)!);
        expect(names.some((n) => /^(tx|tomb)\b/.test(n))).toBe(false);
        expect(names.some((n) => n.startsWith('tombstone'))).toBe(true);
      } finally {
        db.close();
      }
    });

    it('sparse link indexes: rows of the previous schema lose their link placeholders on the upgrade, and a later dense index gets them back', async () => {
      const dense = (version: number): StorageSchema => ({ version, entities: CRM_STORAGE_SCHEMA.entities.map((e) => ({ ...e, indexes: e.indexes.map(({ sparse: _sparse, ...i }) => i) })) });
      const options = env.options();
      const old = await make(options, dense(CRM_STORAGE_SCHEMA.version - 1));
      await seed(old, [row('d1', { contactId: 'c1' }), row('d2'), row('d3', { contactId: null })]);
      await old.close();
      /** The stored deal records and the primary keys in one of the deal store's indexes. */
      const stored = async (index: string) => {
        const db = await rawOpen(options.indexedDB, options.name);
        try {
          const tx = db.transaction('deal');
          const all = (request: IDBRequest) => new Promise<unknown[]>((resolve, reject) => ((request.onsuccess = () => resolve(request.result as unknown[])), (request.onerror = () => reject(request.error))));
          const records = (await all(tx.objectStore('deal').getAll())) as Record<string, unknown>[];
          const keys = tx.objectStore('deal').indexNames.contains(index) ? ((await all(tx.objectStore('deal').index(index).getAllKeys())) as string[][]).map((k) => k[1]!).sort() : undefined;
          return { records, keys };
        } finally {
          db.close();
        }
      };
      const query = (adapter: StorageAdapter, value: string | null) =>
        adapter.transaction('r', async (tx) => (await tx.query('deal', 't1', { filter: { op: 'eq', field: 'contactId', value }, sort: [{ field: 'id' }] })).rows.map((r) => r.id));
      expect((await stored('contact')).keys).toEqual(['d1', 'd2', 'd3']); // placeholders: every deal in the index

      const sparse = await make(options);
      expect(await query(sparse, 'c1')).toEqual(['d1']);
      expect(await query(sparse, null)).toEqual(['d2', 'd3']);
      await sparse.close();
      const after = await stored('contact?contactId');
      expect(after.keys).toEqual(['d1']); // only the deal with a contact
      expect(after.records.map((r) => ('contactId' in r ? r.contactId : 'absent'))).toEqual(['c1', 'absent', null]);
      expect((await stored('contact')).keys).toBeUndefined();

      const again = await make(options, dense(CRM_STORAGE_SCHEMA.version + 1));
      expect((await stored('contact')).keys).toEqual(['d1', 'd2', 'd3']);
      expect(await query(again, null)).toEqual(['d2', 'd3']);
      expect((await readAll(again)).map((r) => ('contactId' in r ? r.contactId : 'absent'))).toEqual(['c1', 'absent', null]);
    });

    it('reopens a lost connection on the next call (the database was deleted elsewhere)', async () => {
      const options = env.options();
      const adapter = await make(options);
      await seed(adapter, [row('a')]);
      await deleteDatabase(options.indexedDB, options.name); // our connection closes itself on versionchange
      expect(await ids(adapter)).toEqual([]);
      await seed(adapter, [row('b')]);
      expect(await ids(await make(options))).toEqual(['b']);
    });

    if (env.forceClose) {
      it('reopens after the browser dropped the connection, with the data intact', async () => {
        const options = env.options();
        const spy = spyOpens(options.indexedDB);
        try {
          const adapter = await make(options);
          await seed(adapter, [row('a')]);
          env.forceClose!(spy.opened[spy.opened.length - 1]!);
          expect(await ids(adapter)).toEqual(['a']);
          expect(spy.opened.length).toBe(2);
        } finally {
          spy.restore();
        }
      });
    }

    it('rejects opening an older schema than the stored one with a non-retryable STORAGE error', async () => {
      const options = env.options();
      await make(options, SCHEMA_V2);
      const error = await rejection(make(options, CRM_STORAGE_SCHEMA));
      expect(isCrmError(error, 'STORAGE') && error.details.retryable).toBe(false);
    });
  });
}
