import { describe, expect, it } from 'vitest';
import { exitTag } from '../src/protocol/exit-tag.js';
import type { PullResponse } from '../src/protocol/messages.js';
import { scopedServer } from './server/scope-support.js';
import { ADAPTERS, device, post, pullAll } from './server/support.js';

const ids = (pages: readonly PullResponse[], entity?: string) => pages.flatMap((p) => p.rows.filter((r) => !entity || r.entity === entity).map((r) => r.row.id as string));
const gone = (pages: readonly PullResponse[]) => pages.flatMap((p) => p.gone);
const last = (pages: readonly PullResponse[]) => pages.at(-1)!.checkpoint;

/** Design sync.md §7 and test 4, server side: what leaves a principal's scope leaves its pulls as exit tags only. */
for (const [adapter, makeStorage] of ADAPTERS) {
  describe(`sync scope exits (${adapter})`, () => {
    it('a deal reassigned Anna → Ben leaves Anna\'s pulls with its tasks and activities (tags), and arrives in Ben\'s', async () => {
      const { server, crm, pipeline } = await scopedServer(makeStorage);
      const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } });
      const note = await crm.activities.log({ kind: 'note', dealId: deal.id, body: 'Met' });
      const [task] = (await crm.tasks.list({ where: { op: 'eq', field: 'dealId', value: deal.id } as never })).items;
      const annaDevice = device(21);
      const benDevice = device(22);
      const annaFirst = await pullAll(server, annaDevice, null, 'anna');
      expect(ids(annaFirst, 'deal')).toEqual([deal.id]);
      expect(ids(annaFirst, 'activity')).toEqual([note.id]);
      const benFirst = await pullAll(server, benDevice, null, 'ben');
      expect(ids(benFirst, 'deal')).toEqual([]);

      await crm.deals.update(deal.id, { ownerId: 'ben' });
      const annaNext = await pullAll(server, annaDevice, last(annaFirst), 'anna');
      // The task is still Anna's own (its owner), so it stays, with the new parent owner; the deal and its note leave.
      expect(ids(annaNext)).toEqual([task!.id]);
      expect(gone(annaNext)).toEqual(expect.arrayContaining([await exitTag('acme', 'deal', deal.id), await exitTag('acme', 'activity', note.id)]));
      expect(gone(annaNext)).not.toContain(await exitTag('acme', 'task', task!.id));
      expect(annaNext[0]!.reset).toBeUndefined();
      const benNext = await pullAll(server, benDevice, last(benFirst), 'ben');
      expect(ids(benNext, 'deal')).toEqual([deal.id]);
      expect(ids(benNext, 'task')).toEqual([task!.id]);
      expect(gone(benNext)).toEqual([]);
    });

    it('a device that never held a hidden record gets only tags it cannot resolve: no hidden id in any response', async () => {
      const { server, crm, pipeline } = await scopedServer(makeStorage);
      const annaDevice = device(23);
      const first = await pullAll(server, annaDevice, null, 'anna');
      const hidden = await crm.deals.create({ title: 'Secret', pipelineId: pipeline.id, ownerId: 'ben' });
      await crm.deals.advance(hidden.id);
      await crm.deals.remove(hidden.id);
      const next = await pullAll(server, annaDevice, last(first), 'anna');
      expect(JSON.stringify(next)).not.toContain(hidden.id);
      expect(JSON.stringify(next)).not.toContain('Secret');
      expect(gone(next)).toContain(await exitTag('acme', 'deal', hidden.id));
    });

    it('a deleted record leaves as a tag; a revoked share too', async () => {
      const { server, crm, pipeline } = await scopedServer(makeStorage);
      const annaDevice = device(24);
      const mine = await crm.deals.create({ title: 'Mine', pipelineId: pipeline.id, ownerId: 'anna' });
      const bens = await crm.deals.create({ title: 'Shared', pipelineId: pipeline.id, ownerId: 'ben' });
      await crm.access.share({ type: 'deal', id: bens.id }, { userId: 'anna', access: 'read' });
      const first = await pullAll(server, annaDevice, null, 'anna');
      expect(ids(first, 'deal').sort()).toEqual([mine.id, bens.id].sort());
      await crm.deals.remove(mine.id);
      await crm.access.unshare({ type: 'deal', id: bens.id }, { userId: 'anna' });
      const next = await pullAll(server, annaDevice, last(first), 'anna');
      expect(ids(next, 'deal')).toEqual([]);
      expect(gone(next)).toEqual(expect.arrayContaining([await exitTag('acme', 'deal', mine.id), await exitTag('acme', 'deal', bens.id)]));
    });

    it('a change of what decides the principal\'s scope is a reset (her role\'s definition, her team\'s members, other roles); other edits are not (review13 R10)', async () => {
      const { server, crm, pipeline } = await scopedServer(makeStorage);
      await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna' });
      const annaDevice = device(25);
      let checkpoint = last(await pullAll(server, annaDevice, null, 'anna'));
      const resetAfter = async (change: () => Promise<unknown>, headers: Record<string, string> = {}) => {
        await change();
        const { body } = await post<PullResponse>(server, 'pull', annaDevice.pull(checkpoint), 'anna', headers);
        checkpoint = body.checkpoint;
        return body;
      };
      expect((await resetAfter(async () => undefined)).reset).toBeUndefined();
      const policy = (await crm.access.getPolicy()) as unknown as { roles: Record<string, { grants: Record<string, Record<string, string>> }> };
      const withRep = (deal: Record<string, string>) => ({ ...policy, roles: { ...policy.roles, rep: { ...policy.roles.rep!, grants: { ...policy.roles.rep!.grants, deal } } } });
      // A role anna does not have: nothing of her scope changed.
      expect((await resetAfter(() => crm.access.setPolicy({ ...policy, roles: { ...policy.roles, lead: { grants: { deal: { read: 'all' } } } } } as never))).reset).toBeUndefined();
      expect(await resetAfter(() => crm.access.setPolicy(withRep({ '*': 'team' }) as never))).toMatchObject({ reset: 'begin', resetDone: true });
      expect((await resetAfter(async () => undefined)).reset).toBeUndefined();
      expect(await resetAfter(() => crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'ben', teamIds: ['north'] }] } as never))).toMatchObject({ reset: 'begin' });
      // A new hire in another team.
      const hired = { teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'ben', teamIds: ['north'] }, { id: 'zed', teamIds: ['south'] }] };
      expect((await resetAfter(() => crm.access.setDirectory(hired as never))).reset).toBeUndefined();
      expect(await resetAfter(async () => undefined, { 'x-roles': 'lead' })).toMatchObject({ reset: 'begin' });
      expect((await resetAfter(async () => undefined, { 'x-roles': 'lead,rep' })).reset).toBe('begin');
      expect((await resetAfter(async () => undefined, { 'x-roles': 'rep,lead' })).reset).toBeUndefined();
    });

    it('a principal with field rules pulls rows without the hidden fields', async () => {
      const { server, crm, pipeline } = await scopedServer(makeStorage);
      const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 5000, currency: 'EUR' } });
      const { body } = await post<PullResponse>(server, 'pull', device(27).pull(null), 'lea', { 'x-roles': 'lead' });
      const row = body.rows.find((r) => r.entity === 'deal')?.row;
      expect(row).toMatchObject({ id: deal.id, title: 'Acme' });
      expect(row).not.toHaveProperty('value');
      expect(row).not.toHaveProperty('weightedValue');
    });

    it('configuration reaches every device of the tenant, whatever the user\'s read grants (review13 R9)', async () => {
      const { server, crm, pipeline } = await scopedServer(makeStorage);
      await crm.tasks.defineType({ key: 'demo', label: 'Product demo' });
      // `nobody` is granted nothing at all (not even pipelines); reps are granted no `setting` read.
      await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' } } }, nobody: { grants: {} } }, defaultRoles: ['rep'] } as never);
      for (const headers of [{}, { 'x-roles': 'nobody' }] as Record<string, string>[]) {
        const { body } = await post<PullResponse>(server, 'pull', device(28).pull(null), 'anna', headers);
        const got = body.rows.map((r) => `${r.entity}:${r.row.id as string}`);
        expect(got).toEqual(expect.arrayContaining([`pipeline:${pipeline.id}`, 'setting:taskTypes']));
        expect(got.filter((k) => !/^(pipeline|customField|setting):/.test(k))).toEqual([]);
      }
    });
  });
}
