import { createCrm, createMemoryStorage, silentLogger, type StorageAdapter } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { access } from '@crmkit/core/access';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type SyncTransport } from '../../src/index.js';

/**
 * review13e E3: a move on a record whose create the device left to the server (fix13h: `not_judged`, `hidden_field`;
 * the device holds no row until the pull) is sent *without a version* — fix13i's `withVersion` finds
 * no row, so no base. If the create reached the server before the move (a push answered, the pull not yet
 * done) and someone else moved the deal meanwhile, the move is applied over that write unchecked.
 * For an ordinary pending create the same move carries version 1 and is refused with CONFLICT.
 */
async function office() {
  const crm = await createCrm({
    storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock: createFakeClock('2026-01-05T09:00:00.000Z'), random: { seed: 7 },
    features: [tasks(), activities(), customFields(), access(), syncChanges()] as const,
  });
  const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.access.setPolicy({
    roles: {
      rep: { grants: { deal: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' }, customField: { read: 'all' } }},
      boss: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' }, customField: { read: 'all' } } },
    },
    defaultRoles: ['rep'],
  } as never);
  const server = createSyncServer(crm, { principal: (request) => (request.headers.get('authorization') === 'Bearer anna' ? { userId: 'anna' } : undefined) });
  return { crm, server, sales };
}

async function device(server: { handle(r: Request): Promise<Response> }) {
  const net = { push: true, pull: true, fault: false };
  const wire = inProcessTransport(server, { headers: () => ({ authorization: 'Bearer anna' }) });
  const transport: SyncTransport = {
    push: (body, signal) => (net.push ? wire.push(body, signal) : Promise.reject(new TypeError('fetch failed'))),
    pull: (body, signal) => (net.pull ? wire.pull(body, signal) : Promise.reject(new TypeError('fetch failed'))),
  };
  // As fix13h's deferred-create test: while `net.fault`, the device's run of a create fails with a fault that is no
  // CrmError (a projected row a service cannot handle): the create is left to the server (`not_judged`).
  const inner = createMemoryStorage();
  const faulty = (tx: StorageTx): StorageTx => new Proxy(tx, {
    get: (target, key) => (key === 'write' ? (entity: string, ...rest: unknown[]) => {
      if (net.fault && entity === 'stageVisit') throw new TypeError('disk full');
      return (target.write as (...a: unknown[]) => Promise<void>)(entity, ...rest);
    } : (Reflect.get(target, key) as { bind?: (t: unknown) => unknown })?.bind?.(target) ?? Reflect.get(target, key)),
  });
  const storage = new Proxy(inner, {
    get: (target, key) => (key === 'transaction'
      ? (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(faulty(tx)))
      : (Reflect.get(target, key) as { bind?: (t: unknown) => unknown })?.bind?.(target) ?? Reflect.get(target, key)),
  }) as StorageAdapter;
  const crm = await createCrm({
    storage: replicaStorage(storage), tenantId: 'acme', actor: { userId: 'anna' }, logger: silentLogger,
    clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed: 3 }, features: [tasks(), activities(), customFields(), syncReplica()] as const,
  });
  const client = await createSyncClient({ crm, transport, start: false });
  await client.syncNow();
  return { client, net };
}

describe('review13e E3: a move on a deferred create\'s record carries no version', () => {
  it('created offline (left to the server), pushed; the boss advances it; her lose is applied over the advance', async () => {
    const o = await office();
    const anna = await device(o.server);
    anna.net.pull = false; anna.net.push = false;
    anna.net.fault = true;
    const deal = (await anna.client.crm.deals.create({ title: 'Fresh', pipelineId: o.sales.id })) as { id: string };
    anna.net.fault = false;
    expect(anna.client.status().deferred).toHaveLength(1); // the device could not judge it: left to the server
    anna.net.push = true;
    await anna.client.syncNow().catch(() => undefined); // the push is answered (applied), the pull fails
    expect((await o.crm.deals.get(deal.id)).stageKey).toBe('new');
    await o.crm.as({ userId: 'boss', roles: ['boss'] }).deals.advance(deal.id); // someone else moves it (v2)
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' }); // she saw it at "new", as she created it
    const sent = (await o.crm.deals.get(deal.id)).version;
    anna.net.pull = true;
    await anna.client.syncNow();
    const rejected = anna.client.status().rejected.map((r) => [r.name, r.error.code]);
    expect({ rejected, status: (await o.crm.deals.get(deal.id)).status, sent }).toEqual({ rejected: [['deals.lose', 'CONFLICT']], status: 'open', sent: 2 });
  });

  it('control (passes): the same with a create the device ran — the lose carries version 1 and is a CONFLICT', async () => {
    const o = await office();
    const anna = await device(o.server);
    anna.net.pull = false; anna.net.push = false;
    const deal = (await anna.client.crm.deals.create({ title: 'Fresh', pipelineId: o.sales.id })) as { id: string };
    anna.net.push = true;
    await anna.client.syncNow().catch(() => undefined);
    await o.crm.as({ userId: 'boss', roles: ['boss'] }).deals.advance(deal.id);
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' });
    anna.net.pull = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => [r.name, r.error.code])).toEqual([['deals.lose', 'CONFLICT']]);
    expect((await o.crm.deals.get(deal.id)).status).toBe('open');
  });
});
