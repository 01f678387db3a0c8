import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import type { StorageAdapter, StorageTx } from '@crmkit/core/storage';

// Review 11q F4: a share adds the "shared with me" branch only to the filters of the principals its
// key names (the user, the team's members), not to everyone's once the entity has any share.

/** The storage, recording whether each deal/task query's filter carries a share branch. */
function spying(storage: StorageAdapter): { storage: StorageAdapter; take: () => string[] } {
  let seen: string[] = [];
  const wrapTx = (tx: StorageTx): StorageTx => new Proxy(tx, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (key === 'query') {
        return (entity: string, tenantId: string, spec: { filter?: unknown }) => {
          const filter = JSON.stringify(spec.filter ?? null);
          if (entity === 'deal' || entity === 'task') seen.push(`${entity}:${/"shareKeys"|"parentShareKeys"/.test(filter) ? 'share' : 'plain'}`);
          return (value as StorageTx['query']).call(target, entity, tenantId, spec as never);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const wrapped = new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (key === 'transaction') {
        return (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => (value as StorageAdapter['transaction']).call(target, mode, (tx) => fn(wrapTx(tx)));
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  // The last query per entity: a read whose deferred configuration check finds the caches stale is
  // dropped and run again, so the first query after another crm's change may still use the old rules.
  const take = (): string[] => {
    const last = new Map(seen.map((s) => [s.split(':')[0], s]));
    seen = [];
    return [...last.values()];
  };
  return { storage: wrapped, take };
}

describe('share marks per key', () => {
  it('adds the share branch exactly for the principals a share names, seen at once by another crm on the storage', async () => {
    const first = await createTestCrm();
    const spy = spying(first.storage);
    // The reading crm: its own caches, as another process would have.
    const { crm: reader } = await createTestCrm({ storage: spy.storage as never });
    const { crm } = first;
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['north'] }, { id: 'bob', teamIds: ['south'] }, { id: 'dave' }] });
    await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' }, task: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
    const annas = await crm.deals.create({ title: 'A', ownerId: 'anna', pipelineId: p.id });
    await crm.deals.create({ title: 'B', ownerId: 'bob', pipelineId: p.id });
    await crm.tasks.create({ subject: 'call', ownerId: 'anna', dealId: annas.id });
    const view = (userId: string) => reader.as({ userId });
    const read = async (userId: string) => {
      spy.take();
      const titles = (await view(userId).deals.list()).items.map((d) => d.title).sort();
      await view(userId).tasks.list();
      return { titles, plans: spy.take().sort() };
    };

    for (const u of ['anna', 'bob', 'carl', 'dave']) expect((await read(u)).plans).toEqual(['deal:plain', 'task:plain']);

    // Another crm shares anna's deal with carl: carl's next read has the branch (and the deal), nobody else's.
    await crm.access.share({ type: 'deal', id: annas.id }, { userId: 'carl', access: 'read' });
    expect(await read('carl')).toEqual({ titles: ['A'], plans: ['deal:share', 'task:share'] });
    for (const u of ['anna', 'bob', 'dave']) expect((await read(u)).plans).toEqual(['deal:plain', 'task:plain']);

    // A team share reaches the team's members only.
    await crm.access.share({ type: 'deal', id: annas.id }, { teamId: 'south', access: 'read' });
    expect(await read('bob')).toEqual({ titles: ['A', 'B'], plans: ['deal:share', 'task:share'] });
    expect((await read('dave')).plans).toEqual(['deal:plain', 'task:plain']);
    expect((await reader.as({ userId: 'dave', teamIds: ['south'] }).deals.list()).items.map((d) => d.title)).toEqual(['A']);

    // Unsharing keeps the mark (cheap and safe: the branch then matches nothing); reindex drops it.
    await crm.access.unshare({ type: 'deal', id: annas.id }, { userId: 'carl' });
    expect(await read('carl')).toEqual({ titles: [], plans: ['deal:share', 'task:share'] });
    await crm.access.reindex();
    expect(await read('carl')).toEqual({ titles: [], plans: ['deal:plain', 'task:plain'] });
    expect(await read('bob')).toEqual({ titles: ['A', 'B'], plans: ['deal:share', 'task:share'] });
  });

  it('a mark of the whole entity (stored before per-key marks) still gives everyone the branch until reindex', async () => {
    const { crm, storage } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
    const d = await crm.deals.create({ title: 'A', ownerId: 'anna', pipelineId: p.id });
    await crm.access.share({ type: 'deal', id: d.id }, { userId: 'carl', access: 'read' });
    // Rewrite the mark as the previous release stored it: entity names.
    await storage.transaction('rw', async (tx) => {
      const [row] = await tx.getMany('setting', 'test', ['accessShared']);
      expect(row!.value).toEqual(['deal u:carl']);
      await tx.write('setting', 'test', [{ type: 'update', row: { ...row!, value: ['deal'], version: (row!.version as number) + 1 }, expectedVersion: row!.version as number }]);
    });
    const { crm: other } = await createTestCrm({ storage: storage as never });
    expect((await other.as({ userId: 'carl' }).deals.list()).items.map((x) => x.title)).toEqual(['A']);
    await other.access.reindex();
    const [row] = await storage.transaction('r', (tx) => tx.getMany('setting', 'test', ['accessShared']));
    expect(row!.value).toEqual(['deal u:carl']);
    expect((await other.as({ userId: 'carl' }).deals.list()).items.map((x) => x.title)).toEqual(['A']);
  });
});
