// StorageTx.changeMark on SQLite: crmkit skips the per-operation read of its configuration revision
// when the mark shows no setting was committed since. These tests hold the promise that skip must
// keep — a policy or directory change is seen by the next operation of every connection — and that
// the skip happens at all (the bench's reason for it). PostgreSQL and PGlite have no mark.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger, type StorageAdapter } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { createPgliteStorage } from '@crmkit/storage-sqlite/pglite';
import { CRM_STORAGE_SCHEMA, type StorageTx } from '@crmkit/core/storage';
import { createPgliteTestBed } from './support/pglite-subjects.js';
import { tempDir } from './support/temp-dir.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** `storage`, counting reads of the setting rows (the configuration revision among them). */
function counting(storage: StorageAdapter): { storage: StorageAdapter; settingReads: () => number } {
  let reads = 0;
  const wrap = (tx: StorageTx): StorageTx =>
    new Proxy(tx, {
      get(target, key, receiver) {
        if (key === 'getMany') {
          return (entity: string, tenantId: string, ids: readonly string[]) => {
            if (entity === 'setting') reads++;
            return target.getMany(entity, tenantId, ids);
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  const wrapped: StorageAdapter = new Proxy(storage, {
    get(target, key) {
      if (key === 'transaction') return <T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>) => target.transaction(mode, (tx) => fn(wrap(tx)));
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { storage: wrapped, settingReads: () => reads };
}

const users = [
  { id: 'ann', teamIds: ['north'] },
  { id: 'bob', teamIds: ['south'] },
];
const stages = [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];
const policy = (dealScope: 'own' | 'all') => ({ roles: { rep: { grants: { deal: { '*': dealScope } } } }, defaultRoles: ['rep'] });

async function twoCrms(a: StorageAdapter, b: StorageAdapter) {
  const writer = await createCrm({ storage: a, tenantId: 't', logger: silentLogger, features: [access()] });
  const reader = await createCrm({ storage: b, tenantId: 't', logger: silentLogger, features: [access()] });
  cleanups.push(() => reader.close(), () => writer.close());
  await writer.pipelines.create({ name: 'P', stages });
  await writer.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users });
  await writer.access.setPolicy(policy('own'));
  await writer.deals.create({ title: 'Ann’s', ownerId: 'ann' });
  await writer.deals.create({ title: 'Bob’s', ownerId: 'bob' });
  return { writer, reader };
}

const titles = async (crm: { deals: { list(o: { limit: number }): Promise<{ items: { title: string }[] }> } }) => (await crm.deals.list({ limit: 10 })).items.map((d) => d.title).sort();

describe('SQLite changeMark and the configuration revision', () => {
  for (const how of ['two connections on a file', 'two adapters on one host connection'] as const) {
    it(`a policy or directory change is seen by the next operation (${how})`, async () => {
      const tmp = tempDir('crmkit-change-mark-');
      cleanups.push(tmp.cleanup);
      const file = tmp.file('mark.db');
      let a: StorageAdapter;
      let b: StorageAdapter;
      if (how === 'two connections on a file') {
        // No change polling: only the revision check can tell the reader.
        a = createSqliteStorage({ filename: file, changePollMs: 0 });
        b = createSqliteStorage({ filename: file, changePollMs: 0 });
      } else {
        // One connection: its data_version never moves for its own commits; the connection's own count must.
        const db = new Database(file);
        cleanups.push(() => db.close());
        a = createSqliteStorage({ database: db, changePollMs: 0 });
        b = createSqliteStorage({ database: db, changePollMs: 0 });
      }
      const seen = counting(b);
      const { writer, reader } = await twoCrms(a, seen.storage);
      const ann = reader.as({ userId: 'ann' });
      expect(await titles(ann)).toEqual(['Ann’s']);
      for (let round = 0; round < 3; round++) {
        await writer.access.setPolicy(policy('all'));
        expect(await titles(ann)).toEqual(['Ann’s', 'Bob’s']);
        await writer.access.setPolicy(policy('own'));
        expect(await titles(ann)).toEqual(['Ann’s']);
      }
      // A directory change: ann joins bob's team under a team scope.
      await writer.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'team' } } } }, defaultRoles: ['rep'] });
      expect(await titles(ann)).toEqual(['Ann’s']);
      await writer.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'ann', teamIds: ['south'] }, { id: 'bob', teamIds: ['south'] }] });
      expect(await titles(ann)).toEqual(['Ann’s', 'Bob’s']);

      // Nothing committed since: operations read no setting at all.
      const before = seen.settingReads();
      for (let i = 0; i < 5; i++) await titles(ann);
      expect(seen.settingReads()).toBe(before);
      // A deal written meanwhile (another entity) does not cost the skip on the writing connection's own count.
      await writer.deals.create({ title: 'Later', ownerId: 'bob' });
      await titles(ann);
      const after = seen.settingReads();
      await titles(ann);
      expect(seen.settingReads()).toBe(after);
    });
  }

  it('marks: stable while nothing is committed, new after any commit of the entity, never reused from a rolled-back write', async () => {
    const tmp = tempDir('crmkit-change-mark-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('mark.db');
    const a = createSqliteStorage({ filename: file, changePollMs: 0 });
    const b = createSqliteStorage({ filename: file, changePollMs: 0 });
    const crm = await createCrm({ storage: a, tenantId: 't', logger: silentLogger });
    cleanups.push(() => b.close(), () => crm.close());
    await b.open(CRM_STORAGE_SCHEMA);
    const mark = (s: StorageAdapter, entity = 'setting') => s.transaction('r', async (tx) => tx.changeMark!(entity));
    const setting = (id: string, version = 1) => ({ type: 'insert' as const, row: { id, tenantId: 't', version, key: id, value: null, createdAt: 'x', updatedAt: 'x' } });

    const m1 = await mark(a);
    expect(await mark(a)).toBe(m1);
    // Another connection's commit moves it (PRAGMA data_version).
    await b.transaction('rw', (tx) => tx.write('setting', 't', [setting('x1')]));
    const m2 = await mark(a);
    expect(m2).not.toBe(m1);
    // Its own commit of the entity moves it; of another entity, not.
    await a.transaction('rw', (tx) => tx.write('setting', 't', [setting('x2')]));
    const m3 = await mark(a);
    expect(m3).not.toBe(m2);
    await crm.pipelines.create({ name: 'P', stages });
    const [m4, d4] = [await mark(a), await mark(a, 'deal')];
    await crm.deals.create({ title: 'd' });
    expect(await mark(a)).toBe(m4);
    expect(await mark(a, 'deal')).not.toBe(d4);
    // A mark taken inside a transaction after its own write is not the mark after it rolled back.
    let inside: string | undefined;
    await expect(
      a.transaction('rw', async (tx) => {
        await tx.write('setting', 't', [setting('x3')]);
        inside = tx.changeMark!('setting');
        throw new Error('abandon');
      }),
    ).rejects.toThrow('abandon');
    expect(inside).toBeDefined();
    expect(await mark(a)).not.toBe(inside);
  });

  it('PGlite (like PostgreSQL) gives no mark: the revision is read', async () => {
    const bed = await createPgliteTestBed();
    const schema = bed.schemaName('mark');
    const storage = createPgliteStorage({ pglite: bed.pglite, schema });
    const crm = await createCrm({ storage, tenantId: 't', logger: silentLogger });
    cleanups.push(() => bed.end(), () => bed.dropSchema(schema), () => crm.close());
    expect(await storage.transaction('r', async (tx) => tx.changeMark?.('setting'))).toBeUndefined();
  });
});
