import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport } from '../../src/index.js';
import { scopedServer } from '../server/scope-support.js';
import { deviceCrm } from '../client/support.js';

/**
 * review13: docs/sync.md "Offline predictions can differ from the server (fields the user may not read …):
 * the server's verdict wins". With a hidden field, the device's rules judge a row without it.
 */
describe('review13: a device whose user may not read a field', () => {
  it('can update, advance and win a deal whose value it may not read (today: TypeError in core on the projected row)', async () => {
    const { crm, server, pipeline } = await scopedServer(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 5000, currency: 'EUR' } });
    const dev = await deviceCrm({ user: 'lea', seed: 8 });
    const client = await createSyncClient({ crm: dev.crm, transport: inProcessTransport(server, { headers: () => ({ 'x-user': 'lea', 'x-roles': 'lead' }) }), start: false });
    await client.syncNow();
    await client.crm.deals.update(deal.id, { title: 'Acme 2' }); // TypeError: reading 'length'
    await client.crm.deals.advance(deal.id); // TypeError: reading 'amount'
    await client.crm.deals.win(deal.id);
    await client.syncNow();
    expect(await crm.deals.get(deal.id)).toMatchObject({ title: 'Acme 2', status: 'won', value: { amount: 5000 } });
  });

  it('can advance a deal into a stage whose entry rule needs that field (the server would accept)', async () => {
    const { crm, server } = await scopedServer(() => createMemoryStorage());
    const pipeline = await crm.pipelines.create({
      name: 'Gated',
      stages: [
        { key: 'new', name: 'New' },
        { key: 'proposal', name: 'Proposal', entryRules: [{ type: 'amountPositive' }] },
        { key: 'won', name: 'Won', kind: 'won' },
        { key: 'lost', name: 'Lost', kind: 'lost' },
      ],
    } as never);
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 5000, currency: 'EUR' } });
    // The server accepts the move for lea (a lead: every deal, value hidden).
    const lea = crm.as({ userId: 'lea', roles: ['lead'] });
    expect(lea).toBeDefined();

    const dev = await deviceCrm({ user: 'lea', seed: 9 });
    const client = await createSyncClient({ crm: dev.crm, transport: inProcessTransport(server, { headers: () => ({ 'x-user': 'lea', 'x-roles': 'lead' }) }), start: false });
    await client.syncNow();
    expect((await dev.crm.deals.get(deal.id)).value).toBeUndefined(); // projected
    await client.crm.deals.advance(deal.id); // refused on the device: RULE_VIOLATION amountPositive
    await client.syncNow();
    expect((await crm.deals.get(deal.id)).stageKey).toBe('proposal');
  });
});
