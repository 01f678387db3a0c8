import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type SyncTransport } from '../../src/index.js';
import { device, office } from '../review13c/harness.js';

/** A device whose pulls can be held back while its pushes go through (the server moves on meanwhile). */
async function pushOnlyDevice(server: { handle(r: Request): Promise<Response> }) {
  const gate = { pull: true };
  const wire = inProcessTransport(server, { headers: () => ({ authorization: 'Bearer token-anna' }) });
  const transport: SyncTransport = { push: (body, signal) => wire.push(body, signal), pull: (body, signal) => (gate.pull ? wire.pull(body, signal) : Promise.reject(new TypeError('fetch failed'))) };
  const crm = await createCrm({
    storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', actor: { userId: 'anna' }, logger: silentLogger,
    clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed: 5 }, features: [tasks(), activities(), customFields(), syncReplica()] as const,
  });
  const client = await createSyncClient({ crm, transport, start: false });
  await client.syncNow();
  return { crm, client, gate };
}

/**
 * design sync.md §25: a device predicts nothing for a command it leaves to the server; a later versioned
 * command carries the version the user saw, and the server takes it only when every write to the record
 * since that version was this client's own. These are the refusals that must stay.
 */
async function setup() {
  const o = await office({ requiredMargin: true }); // every deal update of a rep is deferred (hidden required margin)
  const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', custom: { margin: 30 } } as never);
  const task = await o.crm.tasks.create({ subject: 'Call Acme', ownerId: 'anna', dealId: deal.id } as never);
  const anna = await device(o.server, 'anna');
  await anna.client.syncNow();
  anna.network.online = false;
  return { o, deal, task, anna };
}

const verdicts = (client: { status(): { rejected: readonly { name: string; error: { code: string } }[] } }) => client.status().rejected.map((r) => [r.name, r.error.code]);

describe('versions after a deferred command (own writes only)', () => {
  it('advanced at the office, lost on the device: still CONFLICT', async () => {
    const { o, deal, anna } = await setup();
    expect((await anna.client.execute('deals.update', deal.id, { title: 'Acme 2' })).deferred).toBe('hidden_field');
    await o.crm.deals.advance(deal.id); // a foreign write between
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' });
    anna.network.online = true;
    await anna.client.syncNow();
    expect(verdicts(anna.client)).toEqual([['deals.lose', 'CONFLICT']]);
    expect((await o.crm.deals.get(deal.id)).status).toBe('open');
  });

  it('the same user on another device is not "own": still CONFLICT', async () => {
    const { o, deal, anna } = await setup();
    const phone = await device(o.server, 'anna', 23);
    await phone.client.syncNow();
    expect((await anna.client.execute('deals.update', deal.id, { title: 'Acme 2' })).deferred).toBe('hidden_field');
    await phone.client.crm.deals.advance(deal.id);
    await phone.client.syncNow();
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' });
    anna.network.online = true;
    await anna.client.syncNow();
    expect(verdicts(anna.client)).toEqual([['deals.lose', 'CONFLICT']]);
  });

  it('a foreign write between own ones breaks the run: still CONFLICT', async () => {
    const o = await office({ requiredMargin: true });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', custom: { margin: 30 } } as never);
    const task = await o.crm.tasks.create({ subject: 'Call Acme', ownerId: 'anna', dealId: deal.id } as never);
    const anna = await pushOnlyDevice(o.server);
    anna.gate.pull = false; // the device keeps the task as it saw it (version 1)
    expect((await anna.client.execute('deals.update', deal.id, { ownerId: 'ben' })).deferred).toBe('hidden_field');
    await anna.client.syncNow().catch(() => undefined); // pushed: the handover rewrites the task (own write)
    await o.crm.tasks.update(task.id, { subject: 'Call Acme today' }); // the office writes it
    await o.crm.deals.update(deal.id, { ownerId: 'anna' }); // back to anna (a foreign write of the task again)
    expect((await anna.client.execute('deals.update', deal.id, { title: 'Acme 2' })).deferred).toBe('hidden_field');
    await anna.client.crm.tasks.complete(task.id); // version 1: the office's write came after it
    await anna.client.syncNow().catch(() => undefined);
    expect(verdicts(anna.client)).toEqual([['tasks.complete', 'CONFLICT']]);
    expect((await o.crm.tasks.get(task.id)).status).not.toBe('done');
  });

  it('a rejected deferred command, then a foreign write (the number "+1" would have predicted): still CONFLICT', async () => {
    const o = await office({ denyDeal: ['value'] });
    const gated = await o.crm.pipelines.create({ name: 'Gated', stages: [{ key: 'new', name: 'New' }, { key: 'quote', name: 'Quote', entryRules: [{ type: 'amountPositive' }] }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] } as never);
    const d = await o.crm.deals.create({ title: 'Bolt', pipelineId: gated.id, ownerId: 'anna' });
    const anna = await pushOnlyDevice(o.server);
    anna.gate.pull = false;
    expect((await anna.client.execute('deals.advance', d.id)).deferred).toBe('hidden_field');
    await anna.client.syncNow().catch(() => undefined); // rejected: no amount
    await o.crm.deals.postpone(d.id, { until: '2026-01-20T00:00:00.000Z' }); // one foreign version
    await anna.client.crm.deals.lose(d.id, { reason: 'price' });
    await anna.client.syncNow().catch(() => undefined);
    expect(verdicts(anna.client)).toEqual([['deals.advance', 'RULE_VIOLATION'], ['deals.lose', 'CONFLICT']]);
    expect((await o.crm.deals.get(d.id)).status).toBe('open');
  });

  it('own writes only: a deferred update applied, then a funnel move on the old version applies', async () => {
    const { o, deal, anna } = await setup();
    expect((await anna.client.execute('deals.update', deal.id, { title: 'Acme 2' })).deferred).toBe('hidden_field');
    await anna.client.crm.deals.advance(deal.id);
    await anna.client.crm.deals.postpone(deal.id, { until: '2026-01-20T00:00:00.000Z' });
    anna.network.online = true;
    await anna.client.syncNow();
    expect(verdicts(anna.client)).toEqual([]);
    expect(await o.crm.deals.get(deal.id)).toMatchObject({ title: 'Acme 2', stageKey: 'proposal', postponeCount: 1 });
  });
});
