import { createCrm, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';

/**
 * review13d: an office crm on SQLite with `createSyncServer` and a `rep` role (own records) whose field rules
 * the test chooses (`fields`: core's `fields` of a role), and devices with a network switch (docs/sync.md).
 */
export async function office(fields: Record<string, unknown> = {}, extraFeatures: unknown[] = [], storage: () => unknown = () => createSqliteStorage({ filename: ':memory:' })) {
  const clock = createFakeClock('2026-01-05T09:00:00.000Z');
  const crm = await createCrm({
    storage: storage() as never, tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock, random: { seed: 7 },
    features: [tasks(), activities(), customFields(), access(), syncChanges(), ...extraFeatures] as never,
  });
  const c = crm as unknown as Record<string, any>;  
  const sales = await c.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await c.customFields.define({ entity: 'deal', key: 'region', label: 'Region', type: 'text' });
  await c.customFields.define({ entity: 'lead', key: 'source2', label: 'Source', type: 'text' });
  await c.access.setPolicy({
    roles: {
      rep: {
        grants: { deal: { '*': 'own' }, contact: { '*': 'own' }, lead: { '*': 'own' }, company: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' }, customField: { read: 'all' } },
        fields,
      },
    },
    defaultRoles: ['rep'],
  });
  const sessions = new Map([['token-anna', { userId: 'anna' }], ['token-ben', { userId: 'ben' }]]);
  const server = createSyncServer(crm as never, { principal: (request) => sessions.get(request.headers.get('authorization')?.replace('Bearer ', '') ?? '') });
  return { crm: c, clock, sales, server };
}

/** The device of review13c's harness: a replica crm on memory storage with a network switch. */
export { device } from '../review13c/harness.js';
