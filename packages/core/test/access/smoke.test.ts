import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { where } from '@crmkit/core';

describe('access smoke', () => {
  it('scopes deals per principal', async () => {
    const { crm } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won2', name: 'Next' }] });
    await crm.access.setDirectory({ teams: [{ id: 'north' }], users: [{ id: 'hana' }, { id: 'tom', managerId: 'hana', teamIds: ['north'] }, { id: 'anna', managerId: 'tom', teamIds: ['north'] }, { id: 'ben', managerId: 'hana' }] });
    await crm.access.setPolicy({
      roles: {
        rep: { grants: { deal: { '*': 'own' }, task: { '*': 'own' }, pipeline: { read: 'all' } } },
        lead: { grants: { deal: { '*': 'team' }, task: { '*': 'team' }, pipeline: { read: 'all' } } },
        support: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['value'] } } } },
      },
      defaultRoles: ['rep'],
    });
    const d1 = await crm.deals.create({ title: 'A', ownerId: 'anna', value: { amount: 100, currency: 'EUR' }, pipelineId: p.id });
    const d2 = await crm.deals.create({ title: 'B', ownerId: 'ben', value: { amount: 200, currency: 'EUR' }, pipelineId: p.id });
    const anna = crm.as({ userId: 'anna' });
    expect((await anna.deals.list()).items.map((d) => d.title)).toEqual(['A']);
    await expect(anna.deals.get(d2.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const tom = crm.as({ userId: 'tom', roles: ['lead'] });
    expect((await tom.deals.list()).items.map((d) => d.title)).toEqual(['A']);
    const sup = crm.as({ userId: 'sue', roles: ['support'] });
    const all = await sup.deals.list();
    expect(all.items.map((d) => d.title).sort()).toEqual(['A', 'B']);
    expect(all.items[0]).not.toHaveProperty('value');
    expect(all.items[0]).not.toHaveProperty('weightedValue');
    await expect(sup.deals.list({ where: where.gte('value.amount', 1) })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(sup.deals.update(d1.id, { title: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const board = await anna.deals.board(p.id);
    expect(board.columns[0]!.count).toBe(1);
    const updated = await anna.deals.advance(d1.id);
    expect(updated.stageKey).toBe('won2');
    const events = await crm.eventLog.list({ where: where.eq('type', 'deal.stageChanged') });
    expect(events.items[0]!.actorId).toBe('anna');
    const tl = await anna.timeline({ type: 'deal', id: d1.id });
    expect(tl.items.length).toBeGreaterThan(0);
    await expect(anna.timeline({ type: 'deal', id: d2.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const seen: string[] = [];
    anna.on('*', (e) => seen.push(`${e.type}:${e.subjectId}`));
    await crm.deals.update(d2.id, { title: 'B2' });
    await crm.deals.update(d1.id, { title: 'A2' });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([`deal.updated:${d1.id}`]);
  });
});
