import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';
import { serverOf, headerPrincipal } from '../server/support.js';
import { syncedDevice, syncedDeviceWith } from '../client/support.js';

/** review13: configuration changed on the server reaches a running device: its services use the new one without a restart. */
describe('review13: configuration changes on a running device', () => {
  it('a stage added on the server is where the device advances next', async () => {
    const { crm, server: sync, pipeline } = await serverOf(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 41 });
    await anna.client.syncNow();
    await anna.crm.deals.get(deal.id); // warm any cache
    await crm.pipelines.addStage(pipeline.id, { stage: { key: 'qualified', name: 'Qualified' }, before: 'proposal' });
    await anna.client.syncNow();
    expect((await anna.client.crm.deals.advance(deal.id)).stageKey).toBe('qualified');
  });

  it('a custom field defined on the server can be set on the running device', async () => {
    const server = await createCrm({
      storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock: createFakeClock('2026-01-05T09:00:00.000Z'), random: { seed: 7 },
      features: [tasks(), activities(), customFields(), syncChanges()] as const,
    });
    const pipeline = await server.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const deal = await server.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const sync = createSyncServer(server, { principal: headerPrincipal });
    const { client } = await syncedDeviceWith(sync, { user: 'anna', seed: 3 }, [customFields()] as const);
    await client.syncNow();
    await client.crm.deals.update(deal.id, { title: 'Acme 1' }); // warm the definition cache
    await server.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'number' } as never);
    await client.syncNow();
    await client.crm.deals.update(deal.id, { custom: { budget: 5 } } as never);
    await client.syncNow();
    expect((await server.deals.get(deal.id)).custom).toEqual({ budget: 5 });
  });
});
