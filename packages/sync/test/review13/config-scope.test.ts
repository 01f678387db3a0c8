import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';
import { headerPrincipal } from '../server/support.js';
import { syncedDeviceWith } from '../client/support.js';

/**
 * review13: the configuration a device's services read (custom field definitions, the settings `calendar`,
 * `taskTypes`) is pulled through the user's read scope. A policy like the repo's test policy (`rep` grants
 * deals, contacts, tasks, activities and pipelines — not `customField` or `setting`) keeps all of it off a
 * rep's device, while the server lets the rep use it.
 */
async function setup() {
  const crm = await createCrm({
    storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock: createFakeClock('2026-01-05T09:00:00.000Z'), random: { seed: 7 },
    features: [tasks(), activities(), customFields(), access(), syncChanges()] as const,
  });
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.access.setPolicy({
    roles: { rep: { grants: { deal: { '*': 'own' }, contact: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' } } } },
    defaultRoles: ['rep'],
  } as never);
  await crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'number' } as never);
  await crm.tasks.defineType({ key: 'demo', label: 'Product demo' });
  const server = createSyncServer(crm, { principal: headerPrincipal });
  const { client } = await syncedDeviceWith(server, { user: 'anna', seed: 3 }, [customFields()] as const);
  await client.syncNow();
  return { crm, pipeline, client };
}

describe('review13: configuration on a rep\'s device', () => {
  it('a rep sets a custom field offline, as the server lets her do online', async () => {
    const { crm, pipeline, client } = await setup();
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna' });
    await crm.as({ userId: 'anna' }).deals.update(deal.id, { custom: { budget: 10 } } as never); // the server lets her
    await client.syncNow();
    await client.crm.deals.update(deal.id, { custom: { budget: 20 } } as never);
    await client.syncNow();
    expect((await crm.deals.get(deal.id)).custom).toEqual({ budget: 20 });
  });

  it('a rep creates a task of the tenant\'s type "demo" offline, as the server lets her do online', async () => {
    const { crm, client } = await setup();
    await crm.as({ userId: 'anna' }).tasks.create({ subject: 'Online demo', type: 'demo', dueAt: '2026-01-06T09:00:00.000Z' } as never); // the server lets her
    await client.crm.tasks.create({ subject: 'Offline demo', type: 'demo', dueAt: '2026-01-06T09:00:00.000Z' } as never);
    await client.syncNow();
    expect((await crm.tasks.list()).items.map((t) => t.subject).sort()).toEqual(['Offline demo', 'Online demo']);
  });
});
