import { describe, expect, it } from 'vitest';
import { device, office } from '../review13d/harness.js';

/**
 * review13e: fix13j's device verdict (core's guard rebuilt from the pull's `rights`) against `crm.as(anna)` for
 * scopes, shares, directory and policy changes between pulls. Each row: the policy, the directory, what the office
 * does after the device's first pull (then the device pulls again, online), the call made offline.
 */
type Crm = Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>>;
type O = Awaited<ReturnType<typeof office>>;
type Ids = { bens: string; tims: string; bensTask: string; mine: string };
type Row = [string, Record<string, unknown>, Record<string, unknown> | null, ((o: O, ids: Ids) => Promise<unknown>) | null, (crm: Crm, ids: Ids) => Promise<unknown>];

const base = { pipeline: { read: 'all' }, customField: { read: 'all' }, contact: { '*': 'own' }, activity: { '*': 'own' } };
const SEE_ALL_OWN = { ...base, deal: { read: 'all', '*': 'own' }, task: { read: 'all', '*': 'own' } };
const TEAM = { ...base, deal: { read: 'all', '*': 'team' }, task: { read: 'all', '*': 'team' } };
const SUBTREE = { ...base, deal: { read: 'all', '*': 'subtree' }, task: { read: 'all', '*': 'subtree' } };
const OWN = { ...base, deal: { '*': 'own' }, task: { '*': 'own' } };
const DIR = { teams: [{ id: 'north' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'ben', teamIds: ['north'], managerId: 'anna' }, { id: 'tim' }] };
const LATER = { teams: [{ id: 'north' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'ben', teamIds: ['north'], managerId: 'anna' }, { id: 'tim', teamIds: ['north'], managerId: 'anna' }] };

const ROWS: Row[] = [
  ['team: advance a teammate\'s deal', TEAM, DIR, null, (c, i) => c.deals!.advance!(i.bens)],
  ['subtree: advance a report\'s deal', SUBTREE, DIR, null, (c, i) => c.deals!.advance!(i.bens)],
  ['team: hand my deal to a teammate', TEAM, DIR, null, (c, i) => c.deals!.update!(i.mine, { ownerId: 'ben' })],
  ['team: give a teammate\'s deal to an outsider', TEAM, DIR, null, (c, i) => c.deals!.update!(i.bens, { ownerId: 'tim' })],
  ['share (write) a colleague\'s deal with me, then update it', SEE_ALL_OWN, DIR, (o, i) => o.crm.access.share({ type: 'deal', id: i.tims }, { userId: 'anna', access: 'write' }), (c, i) => c.deals!.update!(i.tims, { title: 'Shared' })],
  ['share (write) a colleague\'s deal with my team, then advance it', SEE_ALL_OWN, DIR, (o, i) => o.crm.access.share({ type: 'deal', id: i.tims }, { teamId: 'north', access: 'write' }), (c, i) => c.deals!.advance!(i.tims)],
  ['own only: a deal shared (write) with me, then lose it', OWN, DIR, (o, i) => o.crm.access.share({ type: 'deal', id: i.tims }, { userId: 'anna', access: 'write' }), (c, i) => c.deals!.lose!(i.tims, { reason: 'price' })],
  ['directory: tim joins my team after my first pull', TEAM, DIR, (o) => o.crm.access.setDirectory(LATER), (c, i) => c.deals!.advance!(i.tims)],
  ['directory: tim reports to me after my first pull', SUBTREE, DIR, (o) => o.crm.access.setDirectory(LATER), (c, i) => c.deals!.update!(i.tims, { title: 'Mine to manage' })],
  ['policy: deals widened to all after my first pull', SEE_ALL_OWN, DIR, (o) => o.crm.access.setPolicy({ roles: { rep: { grants: { ...SEE_ALL_OWN, deal: { '*': 'all' } } } }, defaultRoles: ['rep'] }), (c, i) => c.deals!.advance!(i.tims)],
  ['policy: a second role given to me after my first pull', SEE_ALL_OWN, DIR, (o) => o.crm.access.setPolicy({ roles: { rep: { grants: SEE_ALL_OWN }, closer: { grants: { deal: { read: 'all', lose: 'all', win: 'all' } } } }, defaultRoles: ['rep', 'closer'] }), (c, i) => c.deals!.lose!(i.tims, { reason: 'price' })],
  ['team: complete a teammate\'s task', TEAM, DIR, null, (c, i) => c.tasks!.complete!(i.bensTask)],
  ['team: my task on a teammate\'s deal handed to an outsider', TEAM, DIR, null, (c, i) => c.tasks!.create!({ subject: 'Call', type: 'call', dueAt: '2026-01-08T09:00:00.000Z', dealId: i.bens, ownerId: 'tim' })],
];

async function setup(policy: Record<string, unknown>, directory: Record<string, unknown> | null) {
  const o = await office({});
  await o.crm.access.setPolicy({ roles: { rep: { grants: policy } }, defaultRoles: ['rep'] });
  if (directory) await o.crm.access.setDirectory(directory);
  const deal = (ownerId: string) => o.crm.deals.create({ title: `${ownerId}'s`, pipelineId: o.sales.id, ownerId });
  const [mine, bens, tims] = [await deal('anna'), await deal('ben'), await deal('tim')];
  const bensTask = await o.crm.tasks.create({ subject: 'Visit', type: 'meeting', dueAt: '2026-01-07T09:00:00.000Z', ownerId: 'ben', dealId: bens.id });
  return { o, ids: { mine: mine.id, bens: bens.id, tims: tims.id, bensTask: bensTask.id } };
}

const verdict = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`.replace(/\b[a-z]+_[0-9A-Z]{16,}\b/g, '<id>'));

describe('review13e: device grants vs crm.as for scopes, shares, directory and policy changes', () => {
  it.each(ROWS)('%s', async (_, policy, directory, between, call) => {
    const { o, ids } = await setup(policy, directory);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    if (between) {
      await between(o, ids);
      await anna.client.syncNow();
    }
    anna.network.online = false;
    const onDevice = await verdict(call(anna.client.crm as unknown as Crm, ids));
    const online = await verdict(call(o.crm.as({ userId: 'anna' }) as Crm, ids));
    expect(onDevice).toBe(online);
  });
});
