import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, type MemoryStorage } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { CompiledAccess } from '../../src/access/compiled-access.js';
import { DirectoryIndex } from '../../src/access/access-directory.js';
import type { AccessPolicy } from '../../src/access/access-policy.js';
import type { RecordBase } from '../../src/schema/record.js';

const policy: AccessPolicy = { roles: { lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } }, rep: { grants: { deal: { '*': 'own' } } } }, defaultRoles: ['lead'] };
const directory = new DirectoryIndex({
  teams: [{ id: 'north' }, { id: 'south' }],
  users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'ben', teamIds: ['south', 'north'] }, { id: 'sam', teamIds: ['south'] }],
});
const DIRECTORY = { teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'sam', teamIds: ['south'] }] };
type Stored = { id: string; scopeTeam?: string; value?: unknown };
/** The stored (hidden) team key of every deal, by id: what the memory adapter keeps beside the documents. */
const storedKeys = (storage: MemoryStorage) => Object.fromEntries((Object.values(storage.snapshot().deal ?? {}).flat() as Stored[]).map((r) => [r.id, r.scopeTeam]));
const marker = (storage: MemoryStorage) => (Object.values(storage.snapshot().setting ?? {}).flat() as Stored[]).find((r) => r.id === 'accessTeamKeys')?.value;
const compile = (userId: string, teamKeys: boolean, roles?: string[]) => new CompiledAccess(policy, directory, { userId, ...(roles ? { roles } : {}) }, new Set(), teamKeys);

describe('deal team key (scopeTeam)', () => {
  it('a team scope whose owners share one key seeks it, and keeps the owner test', () => {
    expect(compile('sam', true).readFilter('deal')).toEqual({ op: 'in', field: 'ownerId', values: ['ben', 'sam'] }); // keys south, north|south: no seek
    expect(compile('tom', true).readFilter('deal')).toEqual({ op: 'in', field: 'ownerId', values: ['anna', 'ben', 'tom'] }); // ben is north|south
    const own = compile('anna', true, ['rep']).readFilter('deal');
    expect(own).toEqual({ op: 'and', filters: [{ op: 'eq', field: 'scopeTeam', value: 'north' }, { op: 'in', field: 'ownerId', values: ['anna'] }] });
    // Until every deal is stamped (the marker), the plain filter.
    expect(compile('anna', false, ['rep']).readFilter('deal')).toEqual({ op: 'in', field: 'ownerId', values: ['anna'] });
  });

  it('canRead judges a row by its owner, not its (maybe not yet stamped) key', () => {
    const guard = compile('anna', true, ['rep']);
    expect(guard.canRead('deal', { id: 'd', ownerId: 'anna', scopeTeam: 'stale' } as unknown as RecordBase)).toBe(true);
    expect(guard.canRead('deal', { id: 'd', ownerId: 'sam', scopeTeam: 'north' } as unknown as RecordBase)).toBe(false);
  });

  it('the first directory stamps the deals stored before it, and the team view then seeks the key', async () => {
    const { crm, storage } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const a = await crm.deals.create({ title: 'A', ownerId: 'anna', pipelineId: p.id });
    const b = await crm.deals.create({ title: 'B', ownerId: 'sam', pipelineId: p.id });
    expect(storedKeys(storage)).toEqual({ [a.id]: '', [b.id]: '' }); // no directory yet: no teams
    await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' } } } }, defaultRoles: ['lead'] });
    await crm.access.setDirectory(DIRECTORY);
    expect(storedKeys(storage)).toEqual({ [a.id]: 'north', [b.id]: 'south' });
    expect(marker(storage)).toBe(true);
    expect((await crm.as({ userId: 'tom' }).deals.list()).items.map((d) => d.title)).toEqual(['A']);
    // A second, identical directory rewrites nothing.
    const versions = [(await crm.deals.get(a.id)).version, (await crm.deals.get(b.id)).version];
    await crm.access.setDirectory(DIRECTORY);
    expect([(await crm.deals.get(a.id)).version, (await crm.deals.get(b.id)).version]).toEqual(versions);
  });

  it('the first fill runs in chunks of 500, resumes where an interruption left it, and marks the keys complete only at its end', async () => {
    const memory = createMemoryStorage();
    let rw = 0;
    let failAt = Infinity;
    // Fails the `failAt`-th write transaction from now on (a crash in the middle of the fill).
    const storage: MemoryStorage = { ...memory, transaction: (mode, fn) => (mode === 'rw' && ++rw === failAt ? Promise.reject(new Error('crash')) : memory.transaction(mode, fn)) };
    const logged: [string, unknown][] = [];
    const { crm } = await createTestCrm({ storage, logger: { ...silentLogger, info: (message, data) => void logged.push([message, data]) } });
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.imports.deals(Array.from({ length: 1100 }, (_, i) => ({ title: `d${i}`, ownerId: i % 2 ? 'anna' : 'sam', pipelineId: p.id })));
    await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' } } } }, defaultRoles: ['lead'] });
    // The directory's transaction, then chunk 1 (500 deals); chunk 2 crashes.
    rw = 0;
    failAt = 3;
    await expect(crm.access.setDirectory(DIRECTORY)).rejects.toThrow('crash');
    failAt = Infinity;
    const halfway = marker(storage);
    expect(typeof halfway).toBe('string'); // in progress: the last id stamped
    const keys = Object.entries(storedKeys(storage));
    expect(keys.filter(([id, key]) => id <= (halfway as string) && key !== '')).toHaveLength(500);
    expect(keys.filter(([id, key]) => id > (halfway as string) && key !== '')).toHaveLength(0);
    // Until the fill ends, team scopes keep the owner filter: tom still sees every north deal.
    expect((await crm.as({ userId: 'tom' }).deals.list({ limit: 1000 })).items).toHaveLength(550);
    // The next directory call resumes the fill (after the last id stamped) and completes it.
    rw = 0;
    await crm.access.setDirectory(DIRECTORY);
    expect(rw).toBe(1 + 2); // its own transaction and the two chunks left (500 + 100 deals)
    expect(marker(storage)).toBe(true);
    expect(Object.values(storedKeys(storage)).map(String).sort()).toEqual([...Array(550).fill('north'), ...Array(550).fill('south')]);
    expect(logged.at(-1)).toEqual(['crmkit: deal team keys', { stamped: 600, through: null, done: true }]);
    expect((await crm.as({ userId: 'tom' }).deals.list({ limit: 1000 })).items).toHaveLength(550);
  });

  it('reindex recomputes stale team keys (a write by a crm without the access feature)', async () => {
    const { crm, storage, clock } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' } } } }, defaultRoles: ['lead'] });
    await crm.access.setDirectory(DIRECTORY);
    const a = await crm.deals.create({ title: 'A', ownerId: 'anna', pipelineId: p.id });
    const plain = await createCrm({ storage, clock, tenantId: 'test', logger: silentLogger });
    await plain.deals.update(a.id, { ownerId: 'sam' }); // no access feature: no key written
    expect(storedKeys(storage)[a.id]).toBeUndefined();
    expect((await crm.as({ userId: 'sam' }).deals.list()).items).toHaveLength(0); // stale: sam's seek misses it
    const { updated } = await crm.access.reindex();
    expect(updated).toBe(1);
    expect(storedKeys(storage)[a.id]).toBe('south');
    expect((await crm.as({ userId: 'sam' }).deals.list()).items.map((d) => d.id)).toEqual([a.id]);
    expect((await crm.access.reindex()).updated).toBe(0); // nothing stale left
  });
});
