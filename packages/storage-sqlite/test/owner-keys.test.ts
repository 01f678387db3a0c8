// Owner keys (StorageTx.setOwnerKeys): a deal's owner team key, kept by the SQL adapters beside the
// document, lets a team scope seek one index range. Checked on SQLite (two connections on a file),
// PGlite and PostgreSQL (two pools: two processes as the server sees them), with a crm without the
// access feature writing deals, directory changes, hand-edited keys and reindex.
import { describe, expect, it } from 'vitest';
import type { StorageAdapter } from '@crmkit/core';
import { slowWrites } from './support/slow-writes.js';
import { closeAfterEach, keyDatabases, openCrm, PIPELINE, TEAM_LEAD_POLICY, type KeyDatabase } from './support/team-keys.js';

const defer = closeAfterEach();
const databases = await keyDatabases('keys', defer);

const teams = [{ id: 'north' }, { id: 'south' }];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A database seen through two adapters, and raw SQL on its deal table. */
const subjects: Record<string, () => KeyDatabase> = {
  'sqlite (file, two connections)': databases.sqlite,
  pglite: databases.pglite,
  'postgres (two pools)': databases.postgres,
};

/** `keyed` with the access feature, `plain` without (it still stamps keys: the adapter does), on one database. */
async function setup(subject: KeyDatabase, wrap: (storage: StorageAdapter, which: 'keyed' | 'plain') => StorageAdapter = (s) => s) {
  const keyed = await openCrm(wrap(subject.storage(), 'keyed'), true, defer);
  const plain = await openCrm(wrap(subject.storage(), 'plain'), false, defer);
  const p = await plain.pipelines.create(PIPELINE);
  await keyed.access.setPolicy(TEAM_LEAD_POLICY);
  return { keyed, plain, p };
}

const titles = async (crm: { deals: { list(): Promise<{ items: readonly { title: string }[] }> } }) => (await crm.deals.list()).items.map((d) => d.title).sort();

for (const [name, make] of Object.entries(subjects)) {
  describe(`owner keys: ${name}`, { timeout: 60_000 }, () => {
    it('every writer stamps the key, directory changes restamp it, reindex repairs it; a stale key only hides', async () => {
      const subject = make();
      const { keyed, plain, p } = await setup(subject);
      // Deals written before any directory: no keys yet, scopes use the owner filter.
      const early = await plain.deals.create({ title: 'early', ownerId: 'anna', pipelineId: p.id });
      expect((await subject.keys())[early.id]).toBeNull();
      await keyed.access.setDirectory({ teams, users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['south'] }] });
      expect((await subject.keys())[early.id]).toBe('north'); // the first directory stamps every deal
      // A crm without access() writes deals: the adapter stamps them all the same.
      const south = await plain.deals.create({ title: 'south', ownerId: 'carl', pipelineId: p.id });
      const none = await plain.deals.create({ title: 'nobody', pipelineId: p.id });
      expect(await subject.keys()).toEqual({ [early.id]: 'north', [south.id]: 'south', [none.id]: null });
      expect(await titles(keyed.as({ userId: 'tom' }))).toEqual(['early']);

      // Reassigning restamps.
      await plain.deals.update(south.id, { ownerId: 'anna' });
      expect((await subject.keys())[south.id]).toBe('north');
      expect(await titles(keyed.as({ userId: 'tom' }))).toEqual(['early', 'south']);
      await plain.deals.update(south.id, { ownerId: 'carl', title: 'south' });

      // A directory change is seen at once.
      await keyed.access.setDirectory({ teams, users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['south'] }, { id: 'carl', teamIds: ['south'] }] });
      expect(await subject.keys()).toEqual({ [early.id]: 'south', [south.id]: 'south', [none.id]: null });
      expect(await titles(keyed.as({ userId: 'tom' }))).toEqual([]);
      expect(await titles(keyed.as({ userId: 'carl' }))).toEqual(['early', 'south']);

      // A key edited by hand: the scope still tests the owner, so a wrong key hides, never shows …
      await subject.setKey(early.id, 'north');
      expect(await titles(keyed.as({ userId: 'tom' }))).toEqual([]);
      expect(await titles(keyed.as({ userId: 'carl' }))).toEqual(['south']);
      // … and reindex repairs it.
      await keyed.access.reindex();
      expect((await subject.keys())[early.id]).toBe('south');
      expect(await titles(keyed.as({ userId: 'carl' }))).toEqual(['early', 'south']);
      // The documents never carry the key.
      expect(Object.keys(await plain.deals.get(early.id))).not.toContain('ownerKey');
    });

    it("a team page seeks the key alone and checks each row: a wrong key never shows a deal, and rows, order and cursors stay the full filter's", async () => {
      const subject = make();
      const filters: string[] = [];
      // Records every deal page the keyed crm asks storage for.
      const { keyed, plain, p } = await setup(subject, (storage, which) =>
        which === 'plain'
          ? storage
          : new Proxy(storage, {
              get(target, key) {
                const value = Reflect.get(target, key) as unknown;
                if (key !== 'transaction') return typeof value === 'function' ? value.bind(target) : value;
                return (mode: 'r' | 'rw', fn: (tx: never) => Promise<unknown>) =>
                  target.transaction(mode, (tx) =>
                    fn(
                      new Proxy(tx, {
                        get: (t, k) => {
                          const f = (Reflect.get(t, k) as (...a: unknown[]) => unknown).bind(t);
                          return k === 'query' ? (entity: string, tenant: string, spec: { filter?: unknown }) => (entity === 'deal' && filters.push(JSON.stringify(spec.filter)), f(entity, tenant, spec)) : f;
                        },
                      }) as never,
                    ),
                );
              },
            }),
      );
      await keyed.access.setDirectory({ teams, users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['south'] }] });
      const ids: Record<string, string> = {};
      // Oldest first: c0 (carl) is the oldest deal, n0…n6 north deals between carl's.
      for (const [title, ownerId] of [['c0', 'carl'], ['n0', 'tom'], ['n1', 'anna'], ['c1', 'carl'], ['n2', 'tom'], ['n3', 'anna'], ['c2', 'carl'], ['n4', 'anna'], ['n5', 'tom'], ['n6', 'anna'], ['c3', 'carl']] as const) {
        ids[title] = (await plain.deals.create({ title, ownerId, pipelineId: p.id })).id;
      }
      const tom = keyed.as({ userId: 'tom' });
      /** Every page of `limit`, following cursors: titles per page and whether a cursor came. */
      const pages = async (list: (o: { limit: number; cursor?: string }) => Promise<{ items: readonly { title: string }[]; nextCursor?: string }>, limit: number) => {
        const out: (string[] | string)[] = [];
        let cursor: string | undefined;
        do {
          const page = await list({ limit, ...(cursor ? { cursor } : {}) });
          out.push(page.items.map((d) => d.title));
          cursor = page.nextCursor;
          if (cursor) out.push(cursor);
        } while (cursor);
        return out;
      };
      /** The pages the owner filter gives (the plain crm: no keys) over the north deals not hidden. */
      const expected = async (limit: number, hidden: readonly string[] = []) => {
        const values = Object.entries(ids).filter(([t]) => t.startsWith('n') && !hidden.includes(t)).map(([, id]) => id);
        return pages((o) => plain.deals.list({ where: { field: 'id', op: 'in', values }, ...o }), limit);
      };
      filters.length = 0;
      expect(await pages((o) => tom.deals.list(o), 3)).toEqual(await expected(3));
      expect(filters.length).toBe(3); // one query per page, the key alone
      expect(filters.every((f) => f === '{"op":"eq","field":"ownerKey","value":"north"}')).toBe(true);

      // carl's newest deal, keyed north by hand: it is in the key's range, fails the row check, and the
      // page is read again with the owner filter. The oldest (c0) keyed north is the row after the
      // last page: no cursor to an empty page.
      await subject.setKey(ids.c3!, 'north');
      await subject.setKey(ids.c0!, 'north');
      // anna's n4 keyed south: hidden (the full filter tests the key too), never shown elsewhere.
      await subject.setKey(ids.n4!, 'south');
      filters.length = 0;
      for (const limit of [1, 2, 3, 6, 7]) expect(await pages((o) => tom.deals.list(o), limit), `limit ${limit}`).toEqual(await expected(limit, ['n4']));
      expect(filters.some((f) => f.includes('"ownerId"'))).toBe(true); // the fallback ran
      expect(await titles(keyed.as({ userId: 'carl' }))).toEqual(['c1', 'c2']); // carl's view: the key alone finds anna's n4, the row check drops it; c0, c3 hide
      // reindex repairs every key: pages are the owner filter's again, with no fallback.
      await keyed.access.reindex();
      filters.length = 0;
      expect(await pages((o) => tom.deals.list(o), 4)).toEqual(await expected(4));
      expect(filters.every((f) => !f.includes('"ownerId"'))).toBe(true);

      // Random hand edits (seeded): every page of each team view is the full filter's, whose rows are
      // the team's deals still keyed with the team's key (a wrong key hides its deal, nothing else).
      let seed = 11;
      const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
      const deals = (await plain.deals.list({ limit: 100 })).items;
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 3; i++) await subject.setKey(deals[rnd(deals.length)]!.id, ['north', 'south', 'x'][rnd(3)]!);
        const stored = await subject.keys();
        for (const [user, team, owners] of [['tom', 'north', ['tom', 'anna']], ['carl', 'south', ['carl']]] as const) {
          const values = deals.filter((d) => (owners as readonly string[]).includes(d.ownerId!) && stored[d.id] === team).map((d) => d.id);
          const limit = 1 + rnd(4);
          const want = values.length ? await pages((o) => plain.deals.list({ where: { field: 'id', op: 'in', values }, ...o }), limit) : [[]];
          expect(await pages((o) => keyed.as({ userId: user }).deals.list(o), limit), `round ${round}, ${user}, limit ${limit}`).toEqual(want);
        }
      }
    });

    it('a scope whose owners have several keys keeps the owner filter (users in two teams)', async () => {
      const { keyed, plain, p } = await setup(make());
      await keyed.access.setDirectory({ teams, users: [{ id: 'tom', teamIds: ['north', 'south'] }, { id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['south'] }] });
      await plain.deals.create({ title: 'a', ownerId: 'anna', pipelineId: p.id });
      await plain.deals.create({ title: 'c', ownerId: 'carl', pipelineId: p.id });
      expect(await titles(keyed.as({ userId: 'tom' }))).toEqual(['a', 'c']);
      expect(await titles(keyed.as({ userId: 'anna' }))).toEqual(['a']);
    });

    it('deal writes racing a directory change: no key stays stale (write first, or the change first)', async () => {
      const subject = make();
      const slowEvents = { on: false };
      const slowSettings = { on: false };
      // The plain crm's deal transaction lingers after its INSERT (its event is written late); the keyed
      // crm's directory change lingers after its first setting write.
      const { keyed, plain, p } = await setup(subject, (storage, which) => (which === 'plain' ? slowWrites(storage, 'event', 300, { slow: slowEvents }) : slowWrites(storage, 'setting', 300, { slow: slowSettings })));
      const dir = (annaTeam: string) => ({ teams, users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: [annaTeam] }, { id: 'carl', teamIds: ['south'] }] });
      await keyed.access.setDirectory(dir('north'));
      for (const [round, first] of (['write', 'change', 'write', 'change'] as const).entries()) {
        const team = round % 2 === 0 ? 'south' : 'north';
        (first === 'write' ? slowEvents : slowSettings).on = true;
        const write = first === 'write' ? plain.deals.create({ title: `r${round}`, ownerId: 'anna', pipelineId: p.id }) : sleep(100).then(() => plain.deals.create({ title: `r${round}`, ownerId: 'anna', pipelineId: p.id }));
        const change = first === 'write' ? sleep(100).then(() => keyed.access.setDirectory(dir(team))) : keyed.access.setDirectory(dir(team));
        await Promise.all([write, change]);
        slowEvents.on = slowSettings.on = false;
        // Every deal of anna carries her team now, and the views of both teams agree with the directory.
        const keys = await subject.keys();
        const annas = (await plain.deals.list({ limit: 100 })).items.filter((d) => d.ownerId === 'anna');
        expect(annas.map((d) => keys[d.id]), `round ${round} (${first} first)`).toEqual(annas.map(() => team));
        const carl = await titles(keyed.as({ userId: 'carl' }));
        expect(carl.filter((t) => t.startsWith('r')).length, `round ${round}`).toBe(team === 'south' ? round + 1 : 0);
      }
    });
  });
}

describe('owner keys: a directory change through a storage that cannot restamp', () => {
  it('turns the keys off (scopes use the owner filter) instead of leaving them stale', async () => {
    const subject = subjects['sqlite (file, two connections)']!();
    const { keyed, plain, p } = await setup(subject);
    const dir = (annaTeam: string) => ({ teams, users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: [annaTeam] }] });
    await keyed.access.setDirectory(dir('south'));
    await plain.deals.create({ title: 'anna', ownerId: 'anna', pipelineId: p.id });
    // The same database through a wrapper whose transactions lack setOwnerKeys (capabilities copied).
    const inner = subject.storage();
    const wrapped: StorageAdapter = new Proxy(inner, {
      get(target, key) {
        if (key !== 'transaction') {
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return (mode: 'r' | 'rw', fn: (tx: never) => Promise<unknown>) =>
          target.transaction(mode, (tx) => fn(new Proxy(tx, { get: (t, k) => (k === 'setOwnerKeys' ? undefined : (Reflect.get(t, k) as (...a: unknown[]) => unknown).bind(t)) }) as never));
      },
    });
    const other = await openCrm(wrapped, true, defer);
    await other.access.setDirectory(dir('north'));
    expect(Object.values(await subject.keys())).toEqual(['south']); // not restamped …
    expect(await titles(keyed.as({ userId: 'tom' }))).toEqual(['anna']); // … and not used
    await keyed.access.reindex(); // a storage that can restamp turns them back on
    expect(Object.values(await subject.keys())).toEqual(['north']);
    expect(await titles(keyed.as({ userId: 'tom' }))).toEqual(['anna']);
  });
});
