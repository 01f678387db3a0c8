import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

const settle = () => new Promise((r) => setTimeout(r, 30));
const rep = { grants: { deal: { '*': 'own' as const }, pipeline: { read: 'all' as const } } };
const lead = { grants: { deal: { '*': 'team' as const }, pipeline: { read: 'all' as const } } };

describe('observers of a view follow access changes', () => {
  it('setDirectory and setPolicy refresh list and record observers', async () => {
    const { crm } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
    await crm.access.setPolicy({ roles: { rep, lead }, defaultRoles: ['rep'] });
    const users = (tomTeam: string) => [{ id: 'tom', teamIds: [tomTeam], roles: ['lead'] }, { id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['south'] }];
    await crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: users('north') });
    const north = await crm.deals.create({ title: 'north', ownerId: 'anna', pipelineId: p.id });
    const south = await crm.deals.create({ title: 'south', ownerId: 'carl', pipelineId: p.id });
    const tom = crm.as({ userId: 'tom' });
    const list = tom.observe.deals();
    const record = tom.observe.deal(north.id);
    const other = tom.observe.deal(south.id);
    const offs = [list.subscribe(() => undefined), record.subscribe(() => undefined), other.subscribe(() => undefined)];
    await settle();
    expect(list.getSnapshot().data?.items.map((d) => d.title)).toEqual(['north']);
    expect(record.getSnapshot().data?.title).toBe('north');
    expect(other.getSnapshot()).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } });

    // Tom moves to the south team: north leaves his view, south enters it.
    await crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: users('south') });
    await settle();
    expect(list.getSnapshot().data?.items.map((d) => d.title)).toEqual(['south']);
    expect(record.getSnapshot()).toMatchObject({ status: 'error', data: undefined, error: { code: 'NOT_FOUND' } });
    expect(other.getSnapshot()).toMatchObject({ status: 'success', data: { title: 'south' } });

    // The lead role loses its team scope: only his own deals (none) remain.
    await crm.access.setPolicy({ roles: { rep, lead: rep }, defaultRoles: ['rep'] });
    await settle();
    expect(list.getSnapshot().data?.items).toEqual([]);
    expect(other.getSnapshot()).toMatchObject({ status: 'error', data: undefined, error: { code: 'NOT_FOUND' } });

    // A share and a reassignment bring deals back.
    await crm.access.share({ type: 'deal', id: north.id }, { userId: 'tom', access: 'read' });
    await settle();
    expect(list.getSnapshot().data?.items.map((d) => d.title)).toEqual(['north']);
    expect(record.getSnapshot()).toMatchObject({ status: 'success', data: { title: 'north' } });
    await crm.access.reassign({ from: 'carl', to: 'tom' });
    await settle();
    expect(list.getSnapshot().data?.items.map((d) => d.title).sort()).toEqual(['north', 'south']);
    expect(other.getSnapshot()).toMatchObject({ status: 'success', data: { title: 'south' } });
    for (const off of offs) off();
    await crm.close();
  });
});
