import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport } from '../../src/index.js';
import { scopedServer } from '../server/scope-support.js';
import { deviceCrm } from '../client/support.js';

/**
 * review13b B2: the R6 fix records commands the device cannot run on a field-projected row, but does not
 * show them: for a user with one hidden deal field (lea, `lead`: `value` hidden), every deal change made
 * offline is invisible on the device until the server answers — the board does not move, a renamed deal
 * keeps its old title. Nothing of these commands reads the hidden field.
 */
describe('review13b: offline work of a user with a hidden deal field', () => {
  it('shows on the device before the next sync (title, stage)', async () => {
    const { crm, server, pipeline } = await scopedServer(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 5000, currency: 'EUR' } });
    const dev = await deviceCrm({ user: 'lea', seed: 132 });
    const client = await createSyncClient({ crm: dev.crm, transport: inProcessTransport(server, { headers: () => ({ 'x-user': 'lea', 'x-roles': 'lead' }) }), start: false });
    await client.syncNow();
    const updated = await client.execute('deals.update', deal.id, { title: 'Acme GmbH' });
    const advanced = await client.execute('deals.advance', deal.id);
    const local = await dev.crm.deals.get(deal.id);
    expect({ title: local.title, stageKey: local.stageKey, localErrors: [updated.localError?.message, advanced.localError?.message] })
      .toEqual({ title: 'Acme GmbH', stageKey: pipeline.stages[1]!.key, localErrors: [undefined, undefined] });
  });
});
