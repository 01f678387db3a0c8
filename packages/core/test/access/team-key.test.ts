import { describe, expect, it } from 'vitest';
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
    expect((await crm.deals.get(a.id)).scopeTeam).toBe(''); // no directory yet: no teams
    await crm.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' } } } }, defaultRoles: ['lead'] });
    await crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'sam', teamIds: ['south'] }] });
    expect((await crm.deals.get(a.id)).scopeTeam).toBe('north');
    expect((await crm.deals.get(b.id)).scopeTeam).toBe('south');
    const marker = Object.values(storage.snapshot().setting ?? {}).flat().find((r) => r.id === 'accessTeamKeys') as { value?: unknown } | undefined;
    expect(marker?.value).toBe(true);
    expect((await crm.as({ userId: 'tom' }).deals.list()).items.map((d) => d.title)).toEqual(['A']);
    // A second, identical directory rewrites nothing.
    const versions = [(await crm.deals.get(a.id)).version, (await crm.deals.get(b.id)).version];
    await crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'sam', teamIds: ['south'] }] });
    expect([(await crm.deals.get(a.id)).version, (await crm.deals.get(b.id)).version]).toEqual(versions);
  });
});
