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
 * review13b B3: a required custom field the rep may not read (`fields: { deal: { read: { deny: ['custom.margin'] } } }`).
 * The server lets her set another custom field online; on her device the projected row lacks `margin`, core's
 * custom-value check says `required`, a `VALIDATION` — which R6's deferral does not cover — so the device refuses
 * and records nothing.
 */
describe('review13b: a hidden required custom field', () => {
  it('does not stop a rep from setting another custom field offline (the server lets her)', async () => {
    const crm = await createCrm({
      storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock: createFakeClock('2026-01-05T09:00:00.000Z'), random: { seed: 7 },
      features: [tasks(), activities(), customFields(), access(), syncChanges()] as const,
    });
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    await crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'number' } as never);
    await crm.customFields.define({ entity: 'deal', key: 'margin', label: 'Margin', type: 'number', required: true } as never);
    await crm.access.setPolicy({
      roles: { rep: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' }, customField: { read: 'all' } }, fields: { deal: { read: { deny: ['custom.margin'] } } } } },
      defaultRoles: ['rep'],
    } as never);
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', custom: { budget: 1, margin: 30 } } as never);
    await crm.as({ userId: 'anna' }).deals.update(deal.id, { custom: { budget: 2 } } as never); // the server lets her
    const server = createSyncServer(crm, { principal: headerPrincipal });
    const { client } = await syncedDeviceWith(server, { user: 'anna', seed: 3 }, [customFields()] as const);
    await client.syncNow();
    await client.crm.deals.update(deal.id, { custom: { budget: 3 } } as never);
    await client.syncNow();
    expect((await crm.deals.get(deal.id)).custom).toEqual({ budget: 3, margin: 30 });
  });
});
