import { describe, expect, it } from 'vitest';
import { device, office } from '../review13d/harness.js';

/**
 * review13e: fix13j judges a record's scope on the device's row. When field rules hide a field the scope rests on
 * (`ownerId`, `shares`, a task's `dealId`), the row lacks it and core's guard sees a record nobody reaches: the
 * device refuses with FORBIDDEN what `crm.as(anna)` accepts (design §26 says such cases are "left to the server").
 */
type Crm = Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>>;
type O = Awaited<ReturnType<typeof office>>;
type Ids = { mine: string; tims: string; timsTaskOnMine: string };
type Row = [string, Record<string, unknown>, ((o: O, ids: Ids) => Promise<unknown>) | null, (crm: Crm, ids: Ids) => Promise<unknown>];

const base = { pipeline: { read: 'all' }, customField: { read: 'all' }, contact: { '*': 'own' }, activity: { '*': 'own' } };
const SEE_ALL_OWN = { ...base, deal: { read: 'all', '*': 'own' }, task: { read: 'all', '*': 'own' } };

const ROWS: Row[] = [
  ['deal ownerId hidden: advance my own deal', { grants: SEE_ALL_OWN, fields: { deal: { read: { deny: ['ownerId'] } } } }, null, (c, i) => c.deals!.advance!(i.mine)],
  ['deal shares hidden: update a deal shared (write) with me', { grants: SEE_ALL_OWN, fields: { deal: { read: { deny: ['shares'] } } } }, (o, i) => o.crm.access.share({ type: 'deal', id: i.tims }, { userId: 'anna', access: 'write' }), (c, i) => c.deals!.update!(i.tims, { title: 'Shared' })],
  ['task dealId hidden: complete a colleague\'s task on my deal', { grants: SEE_ALL_OWN, fields: { task: { read: { deny: ['dealId'] } } } }, null, (c, i) => c.tasks!.complete!(i.timsTaskOnMine)],
];

async function setup(role: Record<string, unknown>) {
  const o = await office({});
  await o.crm.access.setPolicy({ roles: { rep: role }, defaultRoles: ['rep'] });
  const mine = await o.crm.deals.create({ title: 'Mine', pipelineId: o.sales.id, ownerId: 'anna' });
  const tims = await o.crm.deals.create({ title: 'Tims', pipelineId: o.sales.id, ownerId: 'tim' });
  const timsTaskOnMine = await o.crm.tasks.create({ subject: 'Visit', type: 'meeting', dueAt: '2026-01-07T09:00:00.000Z', ownerId: 'tim', dealId: mine.id });
  return { o, ids: { mine: mine.id, tims: tims.id, timsTaskOnMine: timsTaskOnMine.id } };
}

const verdict = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);

describe('review13e: scope fields hidden from the user — device vs crm.as', () => {
  it.each(ROWS)('%s', async (_, role, between, call) => {
    const { o, ids } = await setup(role);
    if (between) await between(o, ids);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    const online = await verdict(call(o.crm.as({ userId: 'anna' }) as Crm, ids));
    const onDevice = await verdict(call(anna.client.crm as unknown as Crm, ids));
    expect({ online, onDevice }).toEqual({ online: 'accepted', onDevice: 'accepted' });
  });
});
