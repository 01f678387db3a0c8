import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { createCrm, silentLogger } from '@crmkit/core';

// Review 11q F3: a crm opened without access() on a tenant with a stored policy must not hand out
// views that read and change everything: their operations fail closed with FORBIDDEN.
describe('a view of a crm without access()', () => {
  it('is refused while the tenant has a policy, on every kind of call, and works again once it has none', async () => {
    const { crm, storage } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
    const deal = await crm.deals.create({ title: 'carls', ownerId: 'carl', pipelineId: p.id });
    const bare = await createCrm({ storage, tenantId: 'test', logger: silentLogger, closeStorage: false });
    const anna = bare.as({ userId: 'anna' });
    // No policy yet: views are trusted users, as before.
    expect((await anna.deals.list()).items.map((d) => d.title)).toEqual(['carls']);

    await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
    const refused = { code: 'FORBIDDEN', message: expect.stringContaining('access policy') as unknown, details: { action: 'crm.as' } };
    await expect(anna.deals.list()).rejects.toMatchObject(refused);
    await expect(anna.deals.get(deal.id)).rejects.toMatchObject(refused);
    await expect(anna.deals.update(deal.id, { title: 'mine' })).rejects.toMatchObject(refused);
    await expect(anna.deals.create({ title: 'x', pipelineId: p.id })).rejects.toMatchObject(refused);
    await expect(anna.deals.board(p.id)).rejects.toMatchObject(refused);
    await expect(bare.as({ userId: 'carl' }).contacts.list()).rejects.toMatchObject(refused);
    // The crm itself stays trusted; nothing was written.
    expect((await bare.deals.list()).items.map((d) => d.title)).toEqual(['carls']);

    await crm.access.setPolicy(null);
    expect((await anna.deals.get(deal.id)).title).toBe('carls');
    await bare.close();
  });
});
