import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { tempDir } from './support/temp-dir.js';

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const teams = [{ id: 'north' }, { id: 'south' }];

/** Two connections on one file: `keyed` with the access feature, `plain` without (it still stamps keys: the adapter does). */
async function setup() {
  const tmp = tempDir('crmkit-owner-keys-');
  cleanups.push(tmp.cleanup);
  const file = tmp.file('keys.db');
  const options = () => ({ storage: createSqliteStorage({ filename: file, changePollMs: 25 }), tenantId: 't', logger: silentLogger });
  const keyed = await createCrm({ ...options(), features: [access()] });
  cleanups.push(() => keyed.close());
  const plain = await createCrm(options());
  cleanups.push(() => plain.close());
  const raw = new Database(file);
  cleanups.push(() => void raw.close());
  const keys = () => Object.fromEntries((raw.prepare('SELECT "id", "owner_key" FROM "deal" ORDER BY "id"').raw(true).all() as [string, string | null][]).map(([id, key]) => [id, key]));
  const p = await plain.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
  await keyed.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } } }, defaultRoles: ['lead'] });
  return { keyed, plain, raw, keys, p };
}

const titles = async (crm: { deals: { list(): Promise<{ items: readonly { title: string }[] }> } }) => (await crm.deals.list()).items.map((d) => d.title).sort();

describe('owner keys on SQLite (team scopes seek the owner team key)', () => {
  it('every writer stamps the key, directory changes restamp it, reindex repairs it; a stale key only hides', async () => {
    const { keyed, plain, raw, keys, p } = await setup();
    // Deals written before any directory: no keys yet, the scope uses the owner filter.
    const early = await plain.deals.create({ title: 'early', ownerId: 'anna', pipelineId: p.id });
    expect(keys()[early.id]).toBeNull();
    await keyed.access.setDirectory({ teams, users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['south'] }] });
    expect(keys()[early.id]).toBe('north'); // the first directory stamps every deal
    // A crm without access() writes deals: the adapter stamps them all the same.
    const south = await plain.deals.create({ title: 'south', ownerId: 'carl', pipelineId: p.id });
    const none = await plain.deals.create({ title: 'nobody', pipelineId: p.id });
    expect(keys()).toEqual({ [early.id]: 'north', [south.id]: 'south', [none.id]: null });
    expect(await titles(keyed.as({ userId: 'tom' }))).toEqual(['early']);

    // Reassigning restamps (a write through the other connection).
    await plain.deals.update(south.id, { ownerId: 'anna' });
    expect(keys()[south.id]).toBe('north');
    expect(await titles(keyed.as({ userId: 'tom' }))).toEqual(['early', 'south']);
    await plain.deals.update(south.id, { ownerId: 'carl' });

    // A directory change is seen at once by both connections' views.
    await keyed.access.setDirectory({ teams, users: [{ id: 'tom', teamIds: ['north'] }, { id: 'anna', teamIds: ['south'] }, { id: 'carl', teamIds: ['south'] }] });
    expect(keys()).toEqual({ [early.id]: 'south', [south.id]: 'south', [none.id]: null });
    expect(await titles(keyed.as({ userId: 'tom' }))).toEqual([]);
    expect(await titles(keyed.as({ userId: 'carl' }))).toEqual(['early', 'south']);

    // A key edited by hand: the scope still tests the owner, so a wrong key hides, never shows …
    raw.prepare(`UPDATE "deal" SET "owner_key" = 'north' WHERE "id" = ?`).run(early.id);
    expect(await titles(keyed.as({ userId: 'tom' }))).toEqual([]);
    expect(await titles(keyed.as({ userId: 'carl' }))).toEqual(['south']);
    // … and reindex repairs it.
    await keyed.access.reindex();
    expect(keys()[early.id]).toBe('south');
    expect(await titles(keyed.as({ userId: 'carl' }))).toEqual(['early', 'south']);
  });

  it('a scope whose owners have several keys keeps the owner filter (users in two teams)', async () => {
    const { keyed, plain, p } = await setup();
    await keyed.access.setDirectory({ teams, users: [{ id: 'tom', teamIds: ['north', 'south'] }, { id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['south'] }] });
    await plain.deals.create({ title: 'a', ownerId: 'anna', pipelineId: p.id });
    await plain.deals.create({ title: 'c', ownerId: 'carl', pipelineId: p.id });
    expect(await titles(keyed.as({ userId: 'tom' }))).toEqual(['a', 'c']);
    expect(await titles(keyed.as({ userId: 'anna' }))).toEqual(['a']);
  });
});
