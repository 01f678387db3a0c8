import { describe, expect, it } from 'vitest';
import { device, office } from '../review13d/harness.js';

/**
 * fix13l (review13e E2): a write on a record whose scope fields (`ownerId`, `shares`, a task's parent link) field
 * rules hide is left to the server (design sync.md §26): the device runs it, the server's verdict comes with the
 * push — a refusal as a `FORBIDDEN` rejection, the office's record untouched.
 */
const base = { pipeline: { read: 'all' }, customField: { read: 'all' }, contact: { '*': 'own' }, activity: { '*': 'own' } };
const SEE_ALL_OWN = { ...base, deal: { read: 'all', '*': 'own' }, task: { read: 'all', '*': 'own' } };

async function setup(fields: Record<string, unknown>) {
  const o = await office({});
  await o.crm.access.setPolicy({ roles: { rep: { grants: SEE_ALL_OWN, fields } }, defaultRoles: ['rep'] });
  const tims = await o.crm.deals.create({ title: 'Tims', pipelineId: o.sales.id, ownerId: 'tim' });
  const timsTask = await o.crm.tasks.create({ subject: 'Visit', type: 'meeting', dueAt: '2026-01-07T09:00:00.000Z', ownerId: 'tim', dealId: tims.id });
  const anna = await device(o.server, 'anna');
  await anna.client.syncNow();
  anna.network.online = false;
  return { o, anna, tims: tims.id as string, timsTask: timsTask.id as string };
}

describe('fix13l: a write grant resting on a hidden scope field is judged by the server', () => {
  it('a colleague\'s deal with ownerId hidden: run on the device, rejected FORBIDDEN at push, office untouched', async () => {
    const { o, anna, tims } = await setup({ deal: { read: { deny: ['ownerId'] } } });
    await expect(o.crm.as({ userId: 'anna' }).deals.advance(tims)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(anna.client.crm.deals.advance(tims)).resolves.toMatchObject({ stageKey: 'proposal' });
    anna.network.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => [r.name, r.error.code])).toEqual([['deals.advance', 'FORBIDDEN']]);
    expect((await o.crm.deals.get(tims)).stageKey).toBe('new');
    expect((await anna.client.crm.deals.get(tims))?.stageKey).toBe('new');
  });

  it('a colleague\'s task on a colleague\'s deal with dealId hidden: rejected FORBIDDEN at push', async () => {
    const { o, anna, timsTask } = await setup({ task: { read: { deny: ['dealId'] } } });
    await expect(o.crm.as({ userId: 'anna' }).tasks.complete(timsTask)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await anna.client.crm.tasks.complete(timsTask);
    anna.network.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => [r.name, r.error.code])).toEqual([['tasks.complete', 'FORBIDDEN']]);
    expect((await o.crm.tasks.get(timsTask)).status).not.toBe('done');
  });

  it('nothing hidden: the device still refuses a colleague\'s deal at once', async () => {
    const { anna, tims } = await setup({});
    await expect(anna.client.crm.deals.advance(tims)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
