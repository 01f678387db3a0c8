// review11q: directory changes, deal writes (with and without access()) and reindex running at once on one
// PostgreSQL database through three pools (three processes); once quiet, every view equals the directory's answer.
import { expect, it } from 'vitest';
import { closeAfterEach, keyDatabases, openCrm, PIPELINE, TEAM_LEAD_POLICY } from '../support/team-keys.js';

const defer = closeAfterEach();
const databases = await keyDatabases('r11qc', defer);

const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'];
const TEAMS = ['t0', 't1'];
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
const directory = (r: () => number) => ({ teams: TEAMS.map((id) => ({ id })), users: USERS.map((id) => ({ id, teamIds: [TEAMS[Math.floor(r() * 2)]!] })) });

const subjects = { postgres: databases.postgres, pglite: databases.pglite, sqlite: databases.sqlite };

for (const [name, make] of Object.entries(subjects)) {
  it(`${name}: concurrent directory changes and deal writes leave every team view right`, { timeout: 180_000 }, async () => {
    const database = make();
    const a = await openCrm(database.storage(), true, defer);
    const b = await openCrm(database.storage(), true, defer);
    const plain = await openCrm(database.storage(), false, defer);
    const p = await plain.pipelines.create(PIPELINE);
    await a.access.setPolicy(TEAM_LEAD_POLICY);
    const r = rng(Number(process.env.R11Q_SEED ?? 7));
    await a.access.setDirectory(directory(r));
    const ids: string[] = [];
    for (let round = 0; round < 6; round++) {
      const jobs: Promise<unknown>[] = [];
      for (let i = 0; i < 3; i++) jobs.push(a.access.setDirectory(directory(r)), b.access.setDirectory(directory(r)));
      for (let i = 0; i < 8; i++) {
        const via = [a, b, plain][i % 3]!;
        const owner = USERS[Math.floor(r() * USERS.length)]!;
        if (ids.length && r() < 0.5) {
          const id = ids[Math.floor(r() * ids.length)]!;
          jobs.push(via.deals.update(id, { ownerId: owner }).catch(() => undefined));
        } else jobs.push(via.deals.create({ title: `d${round}.${i}`, ownerId: owner, pipelineId: p.id }).then((d) => ids.push(d.id)));
      }
      if (round % 2) jobs.push(b.access.reindex());
      await Promise.all(jobs);
      const dir = await a.access.getDirectory();
      const all = (await plain.deals.list({ limit: 500 })).items;
      for (const crm of [a, b]) {
        for (const u of USERS) {
          const teams = dir.users.find((x) => x.id === u)!.teamIds!;
          const owners = new Set(dir.users.filter((x) => x.teamIds!.some((t) => teams.includes(t))).map((x) => x.id));
          const expected = all.filter((d) => owners.has(d.ownerId!)).map((d) => d.id).sort();
          const got = (await crm.as({ userId: u }).deals.list({ limit: 500 })).items.map((d) => d.id).sort();
          expect(got, `round ${round} ${u}`).toEqual(expected);
        }
      }
    }
  });
}
