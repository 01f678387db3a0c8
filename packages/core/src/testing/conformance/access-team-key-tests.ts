import { expect, it } from 'vitest';
import type { CrmWith } from '../../crm/feature.js';
import { isCrmError } from '../../errors/crm-error.js';
import type { Deal } from '../../schema/deal.js';
import type { AllFeatures } from '../create-test-crm.js';
import type { LeakWorld } from './access-leak-tests.js';

type AccessCrm = CrmWith<AllFeatures>;

const TEAM_POLICY = { roles: { r: { grants: { deal: { '*': 'team' as const }, pipeline: { read: 'all' as const } } } }, defaultRoles: ['r'] };

/** The ids a view lists, and whether each of `probe` reads (get) — the two must agree. */
async function seen(crm: AccessCrm, probe: readonly Deal[]): Promise<string[]> {
  const listed = (await crm.deals.list({ limit: 1000 })).items.map((d) => d.id).sort();
  for (const d of probe) {
    const got = await crm.deals.get(d.id).then(() => true, (e: unknown) => (isCrmError(e, 'NOT_FOUND') ? false : Promise.reject(e)));
    expect(got, `get ${d.title} agrees with the list`).toBe(listed.includes(d.id));
  }
  return listed;
}

/**
 * The ids of the deals whose stored team key is `key`: the key is hidden (never in a row read back), but
 * the trusted crm may filter on it.
 */
async function keyed(root: AccessCrm, key: string): Promise<string[]> {
  return (await root.deals.list({ where: { op: 'eq', field: 'scopeTeam', value: key }, limit: 1000 })).items.map((d) => d.id).sort();
}

/** No row a crm hands out carries the hidden key: get, list, board, the created event. */
async function expectHidden(root: AccessCrm, ids: readonly string[]): Promise<void> {
  for (const id of ids) expect(Object.keys(await root.deals.get(id))).not.toContain('scopeTeam');
  for (const d of (await root.deals.list({ limit: 1000 })).items) expect(Object.keys(d)).not.toContain('scopeTeam');
}

/**
 * Deals keep their owner's team key (`scopeTeam`) so a `team` scope seeks one index range; the key is
 * bookkeeping the directory drives: these prove a view's team list follows the directory and owner
 * changes at once, and users in several teams, on every adapter.
 */
export function accessTeamKeyTests(open: () => Promise<LeakWorld>): void {
  it('team scope follows the directory at once: joining and leaving a team, an owner change, a user in several teams', async () => {
    const { root, pipelineId } = await open();
    await root.access.setPolicy(TEAM_POLICY);
    const directory = (users: { id: string; teamIds?: string[] }[]) => root.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users });
    await directory([{ id: 'lead', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'bob', teamIds: ['south'] }, { id: 'sam', teamIds: ['south'] }, { id: 'dan' }]);
    const deal = (title: string, ownerId: string) => root.deals.create({ title, ownerId, pipelineId });
    const [a, b, d] = [await deal('anna', 'anna'), await deal('bob', 'bob'), await deal('dan', 'dan')];
    const all = [a, b, d];
    const lead = root.as({ userId: 'lead' });
    const sam = root.as({ userId: 'sam' });
    // The stored key is the owner's sorted teams; it is hidden: no read hands it out, a view's nor the crm's.
    expect(await keyed(root, 'north')).toEqual([a.id]);
    expect(await keyed(root, '')).toEqual([d.id]);
    await expectHidden(root, [a.id, b.id, d.id]);
    expect(Object.keys(await lead.deals.get(a.id))).not.toContain('scopeTeam');
    expect(await seen(lead, all)).toEqual([a.id]);
    expect(await seen(sam, all)).toEqual([b.id]);

    // bob joins north (and leaves south): his deal moves between the two team views in the same call.
    await directory([{ id: 'lead', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'bob', teamIds: ['north'] }, { id: 'sam', teamIds: ['south'] }, { id: 'dan' }]);
    expect(await keyed(root, 'north')).toEqual([a.id, b.id].sort());
    expect(await seen(lead, all)).toEqual([a.id, b.id].sort());
    expect(await seen(sam, all)).toEqual([]);

    // anna leaves every team: her deal leaves lead's view at once.
    await directory([{ id: 'lead', teamIds: ['north'] }, { id: 'anna' }, { id: 'bob', teamIds: ['north'] }, { id: 'sam', teamIds: ['south'] }, { id: 'dan' }]);
    expect(await seen(lead, all)).toEqual([b.id]);

    // An owner change re-keys the deal in its own write: dan's deal handed to sam shows in sam's view.
    await root.deals.update(d.id, { ownerId: 'sam' });
    expect(await keyed(root, 'south')).toEqual([d.id]);
    expect(await seen(sam, all)).toEqual([d.id]);
    expect(await seen(lead, all)).toEqual([b.id]);

    // bob in both teams: both team views see his deal (the key `north|south` is one of several keys there).
    await directory([{ id: 'lead', teamIds: ['north'] }, { id: 'anna' }, { id: 'bob', teamIds: ['south', 'north'] }, { id: 'sam', teamIds: ['south'] }, { id: 'dan' }]);
    expect(await keyed(root, 'north|south')).toEqual([b.id]);
    await expectHidden(root, [a.id, b.id, d.id]);
    expect(await seen(lead, all)).toEqual([b.id]);
    expect(await seen(sam, all)).toEqual([b.id, d.id].sort());

    // A view may not filter or sort by the key (it would tell a hidden deal's owner's teams).
    for (const call of [() => lead.deals.list({ where: { op: 'eq', field: 'scopeTeam', value: 'south' } }), () => lead.deals.list({ orderBy: [{ field: 'scopeTeam' }] })]) {
      expect(await call().then(() => 'allowed', (e: unknown) => (isCrmError(e) ? e.code : 'thrown'))).toBe('FORBIDDEN');
    }
  });

  it('every deal write stamps its owner\'s team key; an unowned deal has none', async () => {
    const { root, pipelineId } = await open();
    const events: unknown[] = [];
    const off = root.on('deal.created', (e) => void events.push(e.data.deal));
    const deals = [await root.deals.create({ title: 'x', ownerId: 'me', pipelineId }), await root.deals.create({ title: 'y', pipelineId })];
    off();
    expect(await keyed(root, 't1')).toEqual([deals[0]!.id]);
    // The unowned deal has no key: no key value selects it.
    const { items } = await root.deals.list({ where: { op: 'prefix', field: 'scopeTeam', value: '' }, limit: 1000 });
    expect(items.map((x) => x.id)).not.toContain(deals[1]!.id);
    // Neither the records returned by the writes nor their events carry it.
    for (const deal of [...deals, ...events]) expect(Object.keys(deal as object)).not.toContain('scopeTeam');
    await expectHidden(root, deals.map((x) => x.id));
  });
}
