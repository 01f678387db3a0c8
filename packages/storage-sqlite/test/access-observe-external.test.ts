import { afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { observers } from '@crmkit/core/observe';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { tempDir } from './support/temp-dir.js';

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('observers follow access changes made by another connection (SQLite file)', () => {
  it('a directory change elsewhere re-reads list and record observers', async () => {
    const tmp = tempDir('crmkit-access-observe-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('shared.db');
    const options = () => ({ storage: createSqliteStorage({ filename: file, changePollMs: 25 }), tenantId: 't', logger: silentLogger });
    const here = await createCrm({ ...options(), features: [access(), observers()] });
    cleanups.push(() => here.close());
    const there = await createCrm({ ...options(), features: [access()] });
    cleanups.push(() => there.close());
    const p = await there.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
    await there.access.setPolicy({ roles: { lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } } }, defaultRoles: ['lead'] });
    const users = (team: string) => [{ id: 'tom', teamIds: [team] }, { id: 'anna', teamIds: ['north'] }, { id: 'carl', teamIds: ['south'] }];
    await there.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: users('north') });
    const north = await there.deals.create({ title: 'north', ownerId: 'anna', pipelineId: p.id });
    await there.deals.create({ title: 'south', ownerId: 'carl', pipelineId: p.id });
    const tom = here.as({ userId: 'tom' });
    const list = tom.observe.deals();
    const record = tom.observe.deal(north.id);
    cleanups.push(list.subscribe(() => undefined), record.subscribe(() => undefined));
    await until(() => list.getSnapshot().data?.items.length === 1 && record.getSnapshot().status === 'success', 'first load');
    expect(list.getSnapshot().data?.items.map((d) => d.title)).toEqual(['north']);

    await there.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: users('south') });
    await until(() => list.getSnapshot().data?.items[0]?.title === 'south', 'the list to follow the directory');
    await until(() => record.getSnapshot().status === 'error', 'the record to leave the view');
    expect(record.getSnapshot()).toMatchObject({ data: undefined, error: { code: 'NOT_FOUND' } });
  });
});
