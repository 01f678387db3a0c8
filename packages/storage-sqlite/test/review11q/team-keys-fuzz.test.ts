// review11q: a differential run of team / subtree / own views over one SQLite file seen through two
// connections with access() and one without, while the directory, owners and keys change. Every view's
// list, count and board must equal the rows the directory lets the principal read.
import { expect, it } from 'vitest';
import type { StorageAdapter } from '@crmkit/core';
import { reports } from '@crmkit/core/reports';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { tempDir } from '../support/temp-dir.js';
import { closeAfterEach, openCrm, PIPELINE } from '../support/team-keys.js';

const defer = closeAfterEach();

const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
const TEAMS = ['t0', 't1', 't2'];
type User = { id: string; teamIds?: string[]; managerId?: string; roles?: string[]; departed?: boolean };

/** The storage with every write of events failing while `failing.on`. */
function failEvents(storage: StorageAdapter, failing: { on: boolean }): StorageAdapter {
  return new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key !== 'transaction') return typeof value === 'function' ? value.bind(target) : value;
      return (mode: 'r' | 'rw', fn: (tx: never) => Promise<unknown>) =>
        target.transaction(mode, (tx) =>
          fn(new Proxy(tx, { get: (t, k) => {
            const v = Reflect.get(t, k) as (...args: unknown[]) => Promise<unknown>;
            if (k === 'write') return (entity: string, ...rest: unknown[]) => (failing.on && entity === 'event' ? Promise.reject(new Error('injected')) : v.call(t, entity, ...rest));
            return typeof v === 'function' ? v.bind(t) : v;
          } }) as never));
    },
  });
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomDirectory(r: () => number) {
  const users: User[] = USERS.map((id, i) => {
    const teams = r() < 0.7 ? [TEAMS[Math.floor(r() * 2)]!] : TEAMS.filter(() => r() < 0.4);
    const u: User = { id, roles: [['rep', 'lead', 'head'][Math.floor(r() * 3)]!] };
    if (teams.length) u.teamIds = teams;
    if (i > 0 && r() < 0.6) u.managerId = USERS[Math.floor(r() * i)]!;
    if (r() < 0.1) u.departed = true;
    return u;
  });
  const kept = users.filter(() => r() < 0.9);
  const ids = new Set(kept.map((u) => u.id));
  for (const u of kept) if (u.managerId && !ids.has(u.managerId)) delete u.managerId;
  return { teams: TEAMS.map((id) => ({ id })), users: kept };
}

function oracle(dir: { users: User[] }, userId: string, deals: { id: string; ownerId?: string }[]): string[] {
  const me = dir.users.find((u) => u.id === userId);
  if (me?.departed) return [];
  const role = me?.roles?.[0] ?? 'rep';
  const owners = new Set([userId]);
  if (role === 'lead') for (const t of me?.teamIds ?? []) for (const u of dir.users) if (u.teamIds?.includes(t)) owners.add(u.id);
  if (role === 'head') {
    const walk = (id: string) => dir.users.filter((u) => u.managerId === id).forEach((u) => owners.has(u.id) || (owners.add(u.id), walk(u.id)));
    walk(userId);
  }
  return deals.filter((d) => d.ownerId !== undefined && owners.has(d.ownerId)).map((d) => d.id).sort();
}

it('sqlite: team/subtree/own views agree with the directory through directory changes, owner changes, reassign, reindex, rollbacks, paging', { timeout: 300_000 }, async () => {
  const tmp = tempDir('crmkit-r11q-');
  defer(tmp.cleanup);
  const file = tmp.file('fuzz.db');
  const failing = { on: false };
  const open = (withAccess: boolean) => openCrm(failEvents(createSqliteStorage({ filename: file, changePollMs: 25 }), failing), withAccess, defer, [reports()]);
  const a = await open(true);
  const b = await open(true);
  const plain = await open(false);
  const p = await plain.pipelines.create(PIPELINE);
  await a.access.setPolicy({
    roles: {
      rep: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' }, report: { read: 'all' } } },
      lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' }, report: { read: 'all' } } },
      head: { grants: { deal: { '*': 'subtree' }, pipeline: { read: 'all' }, report: { read: 'all' } } },
    },
    defaultRoles: ['rep'],
  });
  const seed = Number(process.env.R11Q_SEED ?? 11);
  const r = rng(seed);
  let dir = randomDirectory(r);
  await a.access.setDirectory(dir);
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const log: string[] = [];
  for (let step = 0; step < 60; step++) {
    const roll = r();
    const crms = [a, b, plain];
    const deals = (await plain.deals.list({ limit: 500 })).items;
    if (roll < 0.25) {
      dir = randomDirectory(r);
      const via = pick([a, b]);
      await via.access.setDirectory(dir);
      log.push(`setDirectory via ${via === a ? 'a' : 'b'}`);
    } else if (roll < 0.55 || deals.length === 0) {
      const owner = r() < 0.9 ? pick(USERS) : undefined;
      const via = pick(crms);
      await via.deals.create({ title: `d${step}`, pipelineId: p.id, value: { amount: 100, currency: 'EUR' }, ...(owner ? { ownerId: owner } : {}) });
      log.push(`create owner=${owner}`);
    } else if (roll < 0.75) {
      const d = pick(deals);
      const via = pick(crms);
      await via.deals.update(d.id, { ownerId: pick(USERS) });
      log.push(`update owner ${d.id}`);
    } else if (roll < 0.82) {
      const from = pick(USERS);
      const to = pick(USERS.filter((u) => u !== from && !dir.users.find((x) => x.id === u)?.departed));
      await a.access.reassign({ from, to });
      log.push(`reassign ${from}->${to}`);
    } else if (roll < 0.84) {
      // A directory change that rolls back after restamping (its event write fails).
      failing.on = true;
      await expect(pick([a, b]).access.setDirectory(randomDirectory(r))).rejects.toThrow();
      failing.on = false;
      log.push('failed setDirectory');
    } else if (roll < 0.88) {
      await pick([a, b]).access.reindex();
      log.push('reindex');
    } else {
      const d = pick(deals);
      await pick(crms).deals.win(d.id).catch(() => undefined);
      log.push('win');
    }
    const all = (await plain.deals.list({ limit: 500 })).items;
    for (const crm of [a, b]) {
      for (const u of USERS) {
        const expected = oracle(dir, u, all);
        const view = crm.as({ userId: u });
        const got = (await view.deals.list({ limit: 500 })).items.map((d) => d.id).sort();
        expect(got, `seed ${seed} step ${step} ${u} via ${crm === a ? 'a' : 'b'}\n${log.join('\n')}`).toEqual(expected);
        const [count] = await view.deals.aggregate({ metrics: { n: { fn: 'count' } } });
        expect(count?.values.n ?? 0, `count seed ${seed} step ${step} ${u}`).toBe(expected.length);
        // Paging newest first, two at a time (the keyed index's range), gives the same set.
        const paged: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await view.deals.list({ limit: 2, orderBy: [{ field: 'createdAt', direction: 'desc' }], ...(cursor ? { cursor } : {}) } as never);
          paged.push(...page.items.map((d) => d.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(paged.sort(), `paged seed ${seed} step ${step} ${u}`).toEqual(expected);
        if (dir.users.find((x) => x.id === u)?.departed) continue;
        const cards: string[] = [];
        let cursors: Record<string, string> | undefined;
        for (;;) {
          const b1 = await view.deals.board(p.id, { includeClosed: true, limitPerStage: 1, ...(cursors ? { cursors } : {}) });
          cards.push(...b1.columns.filter((c) => !cursors || cursors[c.stage.key]).flatMap((c) => c.deals.map((d) => d.id)));
          const next = Object.fromEntries(b1.columns.filter((c) => c.nextCursor && (!cursors || cursors[c.stage.key])).map((c) => [c.stage.key, c.nextCursor!]));
          if (!Object.keys(next).length) break;
          cursors = next;
        }
        expect(cards.sort(), `board cards seed ${seed} step ${step} ${u}`).toEqual(expected);
        const funnel = await view.reports.funnel({ pipelineId: p.id, from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' });
        expect(funnel.stages.find((x) => x.stageKey === 'new')?.entered, `funnel seed ${seed} step ${step} ${u}`).toBe(expected.length);
        const board = await view.deals.board(p.id, { includeClosed: true });
        expect(board.columns.reduce((s, c) => s + c.count, 0), `board seed ${seed} step ${step} ${u}`).toBe(expected.length);
        const amount = board.columns.flatMap((c) => c.totals).reduce((s, t) => s + t.amount, 0);
        expect(amount, `board totals seed ${seed} step ${step} ${u}`).toBe(100 * expected.length);
        const newest = (await view.deals.list({ limit: 3, orderBy: [{ field: 'createdAt', direction: 'desc' }] } as never)).items.length;
        expect(newest, `newest page seed ${seed} step ${step} ${u}`).toBe(Math.min(3, expected.length));
      }
    }
  }
});
