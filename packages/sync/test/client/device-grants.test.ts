import { describe, expect, it } from 'vitest';
import { device, office } from '../review13d/harness.js';

/**
 * fix13j (review13d D6): the device judges the user's write grants and write-denied fields with core's guard
 * rebuilt from the pull's `rights`, and gives the verdict `crm.as(user)` gives online — code and message —
 * recording nothing when it refuses.
 */
type Crm = Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>>;
type Ids = { mine: string; bens: string; bensContact: string; myContact: string; bensTask: string; bensTaskOnMine: string; myTaskOnBens: string; bensTaskOnBens: string; myTask: string };
type Row = [string, Record<string, unknown>, (crm: Crm, ids: Ids) => Promise<unknown>];

const SEE_ALL_CHANGE_OWN = {
  deal: { read: 'all', create: 'own', update: 'own', delete: 'own' }, contact: { read: 'all', update: 'own', create: 'own', delete: 'own' },
  task: { read: 'all', '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' }, customField: { read: 'all' },
};
const SEE_ALL_MOVE_OWN = { ...SEE_ALL_CHANGE_OWN, deal: { read: 'all', '*': 'own' } };
const WRITE_DENY = { deal: { write: { deny: ['expectedCloseDate', 'custom.region'] } } };

const ROWS: Row[] = [
  ['update a colleague\'s deal', SEE_ALL_CHANGE_OWN, (c, i) => c.deals!.update!(i.bens, { title: 'Mine now' })],
  ['update my deal', SEE_ALL_CHANGE_OWN, (c, i) => c.deals!.update!(i.mine, { title: 'Renamed' })],
  ['give my deal away (no assign grant)', SEE_ALL_CHANGE_OWN, (c, i) => c.deals!.update!(i.mine, { ownerId: 'ben' })],
  ['give my deal away (assign own)', SEE_ALL_MOVE_OWN, (c, i) => c.deals!.update!(i.mine, { ownerId: 'ben' })],
  ['advance a colleague\'s deal', SEE_ALL_MOVE_OWN, (c, i) => c.deals!.advance!(i.bens)],
  ['advance my deal', SEE_ALL_MOVE_OWN, (c, i) => c.deals!.advance!(i.mine)],
  ['advance my deal (no advance grant)', SEE_ALL_CHANGE_OWN, (c, i) => c.deals!.advance!(i.mine)],
  ['lose a colleague\'s deal', SEE_ALL_MOVE_OWN, (c, i) => c.deals!.lose!(i.bens, { reason: 'price' })],
  ['lose a colleague\'s deal without a reason (input checked first)', SEE_ALL_MOVE_OWN, (c, i) => c.deals!.lose!(i.bens)],
  ['advance a colleague\'s deal at a stale version (scope checked first)', SEE_ALL_MOVE_OWN, (c, i) => c.deals!.advance!(i.bens, { version: 7 })],
  ['advance my deal at a stale version', SEE_ALL_MOVE_OWN, (c, i) => c.deals!.advance!(i.mine, { version: 7 })],
  ['remove a colleague\'s deal', SEE_ALL_CHANGE_OWN, (c, i) => c.deals!.remove!(i.bens)],
  ['create a deal for a colleague', SEE_ALL_CHANGE_OWN, (c) => c.deals!.create!({ title: 'For Ben', pipelineId: PIPELINE.id, ownerId: 'ben' })],
  ['create my deal', SEE_ALL_CHANGE_OWN, (c) => c.deals!.create!({ title: 'Mine', pipelineId: PIPELINE.id })],
  ['update a colleague\'s contact', SEE_ALL_CHANGE_OWN, (c, i) => c.contacts!.update!(i.bensContact, { name: 'Ada L.' })],
  ['update my contact', SEE_ALL_CHANGE_OWN, (c, i) => c.contacts!.update!(i.myContact, { name: 'Grace H.' })],
  ['remove a colleague\'s contact', SEE_ALL_CHANGE_OWN, (c, i) => c.contacts!.remove!(i.bensContact)],
  ['create a task for a colleague', SEE_ALL_CHANGE_OWN, (c, i) => c.tasks!.create!({ subject: 'Call', type: 'call', dueAt: '2026-01-06T09:00:00.000Z', dealId: i.mine, ownerId: 'ben' })],
  ['complete a colleague\'s task', SEE_ALL_CHANGE_OWN, (c, i) => c.tasks!.complete!(i.bensTask)],
  ['complete a colleague\'s task on my deal (the deal\'s scope)', SEE_ALL_CHANGE_OWN, (c, i) => c.tasks!.complete!(i.bensTaskOnMine)],
  ['complete my task on a colleague\'s deal', SEE_ALL_CHANGE_OWN, (c, i) => c.tasks!.complete!(i.myTaskOnBens)],
  ['postpone a colleague\'s task on a colleague\'s deal', SEE_ALL_CHANGE_OWN, (c, i) => c.tasks!.postpone!(i.bensTaskOnBens, { until: '2026-01-09T09:00:00.000Z' })],
  ['hand my task to a colleague', SEE_ALL_CHANGE_OWN, (c, i) => c.tasks!.update!(i.myTask, { ownerId: 'ben' })],
  ['write a write-denied field', { ...SEE_ALL_MOVE_OWN, fields: WRITE_DENY }, (c, i) => c.deals!.update!(i.mine, { expectedCloseDate: '2026-03-01' })],
  ['write a write-denied custom field', { ...SEE_ALL_MOVE_OWN, fields: WRITE_DENY }, (c, i) => c.deals!.update!(i.mine, { custom: { region: 'North' } })],
  ['create with a write-denied field', { ...SEE_ALL_MOVE_OWN, fields: WRITE_DENY }, (c) => c.deals!.create!({ title: 'X', pipelineId: PIPELINE.id, expectedCloseDate: '2026-03-01' })],
  ['write a readable, writable field', { ...SEE_ALL_MOVE_OWN, fields: WRITE_DENY }, (c, i) => c.deals!.update!(i.mine, { title: 'Fine' })],
];

let PIPELINE: { id: string };

async function setup(policy: Record<string, unknown>) {
  const o = await office({});
  PIPELINE = o.sales;
  const { fields, ...grants } = policy;
  await o.crm.access.setPolicy({ roles: { rep: { grants, ...(fields ? { fields } : {}) } }, defaultRoles: ['rep'] });
  const mine = await o.crm.deals.create({ title: 'Mine', pipelineId: o.sales.id, ownerId: 'anna' });
  const bens = await o.crm.deals.create({ title: 'Bens', pipelineId: o.sales.id, ownerId: 'ben' });
  const bensContact = await o.crm.contacts.create({ name: 'Ada', ownerId: 'ben' });
  const myContact = await o.crm.contacts.create({ name: 'Grace', ownerId: 'anna' });
  const bensTask = await o.crm.tasks.create({ subject: 'Visit', type: 'meeting', dueAt: '2026-01-07T09:00:00.000Z', ownerId: 'ben' });
  const task = (ownerId: string, dealId?: string) => o.crm.tasks.create({ subject: 'Call', type: 'call', dueAt: '2026-01-08T09:00:00.000Z', ownerId, ...(dealId ? { dealId } : {}) });
  const [bensTaskOnMine, myTaskOnBens, bensTaskOnBens, myTask] = [await task('ben', mine.id), await task('anna', bens.id), await task('ben', bens.id), await task('anna')];
  return { o, ids: { mine: mine.id, bens: bens.id, bensContact: bensContact.id, myContact: myContact.id, bensTask: bensTask.id, bensTaskOnMine: bensTaskOnMine.id, myTaskOnBens: myTaskOnBens.id, bensTaskOnBens: bensTaskOnBens.id, myTask: myTask.id } };
}

/** The code and message; the id of a new record (chosen on each side) as `<new>`. */
const verdict = (p: Promise<unknown>, ids: Ids) =>
  p.then(() => 'accepted', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`.replace(/\b[a-z]+_[0-9A-Z]{16,}\b/g, (id) => (Object.values(ids).includes(id) ? id : '<new>')));

describe('fix13j: the device judges write grants and write-denied fields like crm.as', () => {
  it.each(ROWS)('%s', async (_, policy, call) => {
    const { o, ids } = await setup(policy);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    const onDevice = await verdict(call(anna.client.crm as unknown as Crm, ids), ids);
    const online = await verdict(call(o.crm.as({ userId: 'anna' }) as Crm, ids), ids);
    expect(onDevice).toBe(online);
    // A refusal records nothing; an accepted call is pending and the server accepts it.
    expect(anna.client.status().pending).toBe(onDevice === 'accepted' ? 1 : 0);
  });

  it('the table refuses and accepts', async () => {
    const outcomes = new Set<string>();
    for (const [, policy, call] of ROWS) {
      const { o, ids } = await setup(policy);
      outcomes.add((await verdict(call(o.crm.as({ userId: 'anna' }) as Crm, ids), ids)).split(':')[0]!);
    }
    expect([...outcomes].sort()).toEqual(['CONFLICT', 'FORBIDDEN', 'VALIDATION', 'accepted']);
  });
});
