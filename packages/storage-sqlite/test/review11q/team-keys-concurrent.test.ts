// review11q: directory changes, deal writes (with and without access()) and reindex running at once on one
// PostgreSQL database through three pools (three processes); once quiet, every view equals the directory's answer.
import { afterAll, afterEach, expect, inject, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import { createPgliteStorage } from '@crmkit/storage-sqlite/pglite';
import { createPgliteTestBed } from '../support/pglite-subjects.js';
import { createPostgresTestBed } from '../support/postgres-subjects.js';
import { tempDir } from '../support/temp-dir.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const bed = createPostgresTestBed(inject('postgresUrl'));
const liteBed = await createPgliteTestBed();
afterAll(async () => {
  await bed.end();
  await liteBed.end();
});

const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'];
const TEAMS = ['t0', 't1'];
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
const directory = (r: () => number) => ({ teams: TEAMS.map((id) => ({ id })), users: USERS.map((id) => ({ id, teamIds: [TEAMS[Math.floor(r() * 2)]!] })) });

const subjects: Record<string, () => () => ReturnType<typeof createSqliteStorage>> = {
  postgres: () => {
    const schema = bed.schemaName('r11qc');
    cleanups.push(() => bed.dropSchema(schema));
    return () => createPostgresStorage({ connectionString: bed.url, schema, maxConnections: 4 });
  },
  pglite: () => {
    const schema = liteBed.schemaName('r11qc');
    cleanups.push(() => liteBed.dropSchema(schema));
    return () => createPgliteStorage({ pglite: liteBed.pglite, schema }) as never;
  },
  sqlite: () => {
    const tmp = tempDir('crmkit-r11qc-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('c.db');
    return () => createSqliteStorage({ filename: file, changePollMs: 25 });
  },
};

for (const [name, make] of Object.entries(subjects)) {
  it(`${name}: concurrent directory changes and deal writes leave every team view right`, { timeout: 180_000 }, async () => {
    const storage = make();
    const open = async (withAccess: boolean) => {
      // Typed as the crm with access(); `plain` is opened without it (its `access` is never used).
      const crm = await createCrm({ storage: storage(), tenantId: 't', logger: silentLogger, features: (withAccess ? [access()] : []) as [ReturnType<typeof access>] });
      cleanups.push(() => crm.close());
      return crm;
    };
    const a = await open(true);
    const b = await open(true);
    const plain = await open(false);
    const p = await plain.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
    await a.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } } }, defaultRoles: ['lead'] });
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
