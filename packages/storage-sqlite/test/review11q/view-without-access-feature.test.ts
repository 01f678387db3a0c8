// review11q F3: a process that opens the crm without access() on a database whose tenant has a policy
// hands out views that see and change everything — the stored policy is ignored silently (fail-open).
import { expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { tempDir } from '../support/temp-dir.js';
import { closeAfterEach, openCrm } from '../support/team-keys.js';

const defer = closeAfterEach();

it('a view of a crm without access() on a tenant with a stored policy does not see every deal', async () => {
  const tmp = tempDir('crmkit-r11q-noaccess-');
  defer(tmp.cleanup);
  const file = tmp.file('crm.db');
  const guarded = await openCrm(createSqliteStorage({ filename: file }), true, defer);
  const p = await guarded.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
  await guarded.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
  await guarded.deals.create({ title: 'carls', ownerId: 'carl', pipelineId: p.id });
  expect((await guarded.as({ userId: 'anna' }).deals.list()).items).toEqual([]);

  // Another service of the same host, configured without access() (forgotten, or an older config).
  const unguarded = await openCrm(createSqliteStorage({ filename: file }), false, defer);
  const anna = unguarded.as({ userId: 'anna' });
  const outcome = await anna.deals.list().then(
    (page) => page.items.map((d) => d.title),
    (e: unknown) => (isCrmError(e) ? e.code : String(e)),
  );
  // Either refused (the tenant has a policy this process cannot enforce) or scoped — never carl's deal.
  expect(outcome === 'FORBIDDEN' || (Array.isArray(outcome) && outcome.length === 0), `anna saw ${JSON.stringify(outcome)}`).toBe(true);
});
