// Review 11q F4 on SQLite: a share adds the "shared with me" branch only to the filters of the
// principals it names, and a share made through another connection (another process) is seen by
// the next read of this one — the configuration revision moves, which `changeMark` reports.
import { afterEach, expect, it } from 'vitest';
import { createCrm, silentLogger, type StorageAdapter } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import type { StorageTx } from '@crmkit/core/storage';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { tempDir } from './support/temp-dir.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** The storage, recording whether the last deal query's filter had the share branch. */
function spying(storage: StorageAdapter): { storage: StorageAdapter; last: () => string | undefined } {
  let last: string | undefined;
  const bind = <T extends object>(target: T, key: string | symbol) => {
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
  };
  const wrapTx = (tx: StorageTx): StorageTx => new Proxy(tx, {
    get: (target, key) => key !== 'query' ? bind(target, key) : (entity: string, tenantId: string, spec: { filter?: unknown }) => {
      if (entity === 'deal') last = JSON.stringify(spec.filter ?? null).includes('"shareKeys"') ? 'share' : 'plain';
      return target.query(entity, tenantId, spec as never);
    },
  });
  const wrapped = new Proxy(storage, {
    get: (target, key) => key !== 'transaction' ? bind(target, key)
      : (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(wrapTx(tx))),
  });
  return { storage: wrapped, last: () => last };
}

it('sqlite, two connections: the share branch is added exactly for the principals a share names, at their next read', async () => {
  const tmp = tempDir('crmkit-share-marks-');
  cleanups.push(tmp.cleanup);
  const file = tmp.file('crm.db');
  const writer = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 't', logger: silentLogger, features: [access()] });
  cleanups.push(() => writer.close());
  const spy = spying(createSqliteStorage({ filename: file }));
  const reader = await createCrm({ storage: spy.storage, tenantId: 't', logger: silentLogger, features: [access()] });
  cleanups.push(() => reader.close());
  const p = await writer.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
  await writer.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['north'] }, { id: 'bob', teamIds: ['south'] }, { id: 'dave', teamIds: ['south'] }] });
  await writer.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
  const a = await writer.deals.create({ title: 'A', ownerId: 'anna', pipelineId: p.id });
  await writer.deals.create({ title: 'B', ownerId: 'bob', pipelineId: p.id });
  const read = async (userId: string) => {
    const titles = (await reader.as({ userId }).deals.list()).items.map((d) => d.title).sort();
    return [titles.join(','), spy.last()];
  };
  expect(await read('carl')).toEqual(['', 'plain']); // the reader's caches are warm from here on

  await writer.access.share({ type: 'deal', id: a.id }, { userId: 'carl', access: 'read' });
  expect(await read('carl')).toEqual(['A', 'share']);
  expect(await read('bob')).toEqual(['B', 'plain']);
  expect(await read('anna')).toEqual(['A', 'plain']);

  await writer.access.share({ type: 'deal', id: a.id }, { teamId: 'south', access: 'read' });
  expect(await read('dave')).toEqual(['A', 'share']);
  expect(await read('bob')).toEqual(['A,B', 'share']);
  expect(await read('anna')).toEqual(['A', 'plain']);
});
