import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, type SyncTransport } from '../../src/index.js';
import { scopedServer } from '../server/scope-support.js';
import { deviceCrm } from './support.js';

/**
 * review13 R6: a user whose rows arrive field-projected (lea, a `lead`: every deal, `value` hidden).
 * What the device cannot judge — a service reading a hidden field that decides it, or a rule refusing it —
 * is recorded (`deferred`, `localError`), pushed and decided by the server. The repro is test/review13/hidden-fields.test.ts.
 */
async function setup(seed: number) {
  const t = await scopedServer(() => createMemoryStorage());
  const gated = await t.crm.pipelines.create({
    name: 'Gated',
    stages: [
      { key: 'new', name: 'New' },
      { key: 'proposal', name: 'Proposal', entryRules: [{ type: 'field', field: 'value.amount', op: 'gt', value: 1000 }] },
      { key: 'won', name: 'Won', kind: 'won' },
      { key: 'lost', name: 'Lost', kind: 'lost' },
    ],
  } as never);
  const deal = await t.crm.deals.create({ title: 'Acme', pipelineId: gated.id, ownerId: 'anna', value: { amount: 5000, currency: 'EUR' } });
  const dev = await deviceCrm({ user: 'lea', seed });
  const lea = inProcessTransport(t.server, { headers: () => ({ 'x-user': 'lea', 'x-roles': 'lead' }) });
  // Runs once before the next pull is sent (the user acting while a cycle runs, after its push).
  const hooks = { beforePull: undefined as (() => Promise<void>) | undefined };
  const transport: SyncTransport = {
    push: (body, signal) => lea.push(body, signal),
    pull: async (body, signal) => {
      const run = hooks.beforePull;
      hooks.beforePull = undefined;
      await run?.();
      return lea.pull(body, signal);
    },
  };
  const client = await createSyncClient({ crm: dev.crm, transport, start: false });
  await client.syncNow();
  return { ...t, deal, dev, client, hooks };
}

describe('a device whose rows arrive field-projected', () => {
  it('a rule refusing the projected row (its input is hidden) is left to the server, which accepts', async () => {
    const { crm, deal, client, dev } = await setup(11);
    const out = await client.execute('deals.advance', deal.id);
    expect(out).toMatchObject({ deferred: 'hidden_field', localError: { code: 'RULE_VIOLATION' } });
    expect(out.result).toMatchObject({ id: deal.id, stageKey: 'new', version: deal.version }); // unchanged: nothing predicted (§25)
    expect(client.status()).toMatchObject({ pending: 1, unpushed: 1 });
    await client.syncNow();
    expect(await crm.deals.get(deal.id)).toMatchObject({ stageKey: 'proposal', version: deal.version + 1 });
    expect(await dev.crm.deals.get(deal.id)).toMatchObject({ stageKey: 'proposal', version: deal.version + 1 });
    expect(client.status()).toMatchObject({ pending: 0, rejected: [] });
  });

  it('the server still judges: a command it refuses comes back rejected', async () => {
    const { crm, deal, client } = await setup(12);
    await crm.deals.update(deal.id, { value: { amount: 10, currency: 'EUR' } });
    await client.syncNow();
    await client.crm.deals.advance(deal.id); // left to the server: 10 is not over 1000
    await client.syncNow();
    expect(client.status().rejected).toMatchObject([{ name: 'deals.advance', error: { code: 'RULE_VIOLATION' } }]);
    expect((await crm.deals.get(deal.id)).stageKey).toBe('new');
  });

  it('commands on projected rows chain their versions, on the device run and on the rebase\'s replay', async () => {
    const { crm, deal, client, dev, hooks } = await setup(13);
    await crm.deals.update(deal.id, { value: { amount: 500, currency: 'EUR' } }); // advancing needs no rule now: "won" next
    await client.syncNow();
    const v = (await crm.deals.get(deal.id)).version;
    // Run while a cycle is between its push and its pull: the pull's rebase replays them (each fails again on the projected row).
    hooks.beforePull = async () => {
      await client.crm.deals.update(deal.id, { title: 'Acme 2' }); // runs on the device: the hidden value and line items are placeholders (review13b B2)
      await client.crm.deals.lose(deal.id, { reason: 'price' } as never);
      await client.crm.deals.reopen(deal.id, { toStage: 'new' } as never);
    };
    await client.syncNow();
    expect(client.status()).toMatchObject({ pending: 3, unpushed: 3, errors: [] });
    expect(await dev.crm.deals.get(deal.id)).toMatchObject({ title: 'Acme 2', status: 'open', version: v + 3 });
    expect(await dev.crm.deals.get(deal.id)).not.toHaveProperty('value');
    await client.syncNow();
    expect(client.status()).toMatchObject({ pending: 0, rejected: [] });
    expect(await crm.deals.get(deal.id)).toMatchObject({ title: 'Acme 2', status: 'open', version: v + 3 });
  });

  it('input errors still throw on the device and record nothing', async () => {
    const { deal, client } = await setup(14);
    await expect(client.crm.deals.reopen(deal.id, {} as never)).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(client.crm.deals.update(deal.id, { title: '' })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(client.status()).toMatchObject({ pending: 0 });
  });
});
