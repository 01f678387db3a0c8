import { createCrm, createMemoryStorage, silentLogger, type StorageAdapter } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import type { StorageTx } from '@crmkit/core/storage';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica } from '../../src/index.js';

/** An office; the `rep` may not read `deny` of a deal. */
async function office(deny: string[]) {
  const crm = await createCrm({
    storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock: createFakeClock('2026-01-05T09:00:00.000Z'), random: { seed: 7 },
    features: [tasks(), activities(), customFields(), access(), syncChanges()] as const,
  });
  const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.customFields.define({ entity: 'deal', key: 'margin', label: 'Margin', type: 'number', required: true } as never);
  const own = { '*': 'own' };
  await crm.access.setPolicy({
    roles: { rep: { grants: { deal: own, task: own, activity: own, pipeline: { read: 'all' }, customField: { read: 'all' } }, fields: { deal: { read: { deny } } } } },
    defaultRoles: ['rep'],
  } as never);
  const server = createSyncServer(crm, { principal: (request) => (request.headers.get('authorization') === 'Bearer anna' ? { userId: 'anna' } : undefined) });
  return { crm, server, sales };
}

/** Anna's device; while `gate.fault`, a stage visit's write fails with a device fault (no `CrmError`: `not_judged`). */
async function device(server: { handle(r: Request): Promise<Response> }) {
  const gate = { fault: false };
  const inner = createMemoryStorage();
  const faulty = (tx: StorageTx): StorageTx => new Proxy(tx, {
    get: (target, key) => (key === 'write' ? (entity: string, ...rest: unknown[]) => {
      if (gate.fault && entity === 'stageVisit') throw new TypeError('disk full');
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
  const client = await createSyncClient({ crm, transport: inProcessTransport(server, { headers: () => ({ authorization: 'Bearer anna' }) }), start: false });
  await client.syncNow();
  return { client, gate };
}

describe('fix13h: a create left to the server resolves with its id, and later commands may name it', () => {
  it('a deal the device could not create: its input with the id; a call and a task on it are accepted after sync', async () => {
    const o = await office(['value']);
    const { client, gate } = await device(o.server);
    gate.fault = true;
    const deal = await client.crm.deals.create({ title: 'Fresh', pipelineId: o.sales.id, custom: { margin: 12 } });
    gate.fault = false;
    expect(deal).toEqual({ id: expect.stringMatching(/^deal_/), title: 'Fresh', pipelineId: o.sales.id, custom: { margin: 12 } });
    const call = await client.execute('activities.log', { kind: 'call', dealId: deal.id, subject: 'First call' });
    const task = await client.crm.tasks.create({ subject: 'Send offer', type: 'email', dealId: deal.id });
    expect(call.deferred).toBe('awaits_record');
    expect(task.id).toMatch(/^task_/);
    expect(client.status().deferred.map((d) => [d.name, d.reason])).toEqual([['deals.create', 'not_judged'], ['activities.log', 'awaits_record'], ['tasks.create', 'awaits_record']]);
    // A link to a record nobody creates is still refused at once.
    await expect(client.crm.activities.log({ kind: 'call', dealId: 'deal_nope' })).rejects.toMatchObject({ code: 'VALIDATION' });

    await client.syncNow();
    expect(client.status()).toMatchObject({ pending: 0, rejected: [], deferred: [] });
    expect((await o.crm.deals.get(deal.id)).title).toBe('Fresh');
    expect((await o.crm.activities.list()).items.filter((a) => a.dealId === deal.id).map((a) => a.subject)).toEqual(['First call']);
    expect((await o.crm.tasks.get(task.id)).dealId).toBe(deal.id);
    expect((await client.crm.tasks.get(task.id)).subject).toBe('Send offer'); // pulled
  });

  it('a task left to the server (it reads the deal\'s hidden status): completing it offline is accepted after sync', async () => {
    const o = await office(['status']);
    const base = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', custom: { margin: 1 } });
    const { client } = await device(o.server);
    const created = await client.execute('tasks.create', { subject: 'Call', type: 'call', dealId: base.id });
    expect(created.deferred).toBe('hidden_field');
    const task = created.result as { id: string; subject: string };
    expect(task).toMatchObject({ id: expect.stringMatching(/^task_/), subject: 'Call', dealId: base.id });
    const done = await client.execute('tasks.complete', task.id);
    expect(done.deferred).toBe('awaits_record');
    await client.syncNow();
    expect(client.status()).toMatchObject({ pending: 0, rejected: [], deferred: [] });
    expect((await o.crm.tasks.get(task.id)).status).toBe('done');
  });

  it('a create the server refuses takes the commands that name it down, and the device ends as the server', async () => {
    const o = await office(['value', 'custom.margin']);
    const { client } = await device(o.server);
    const created = await client.execute('deals.create', { title: 'No margin', pipelineId: o.sales.id });
    expect(created).toMatchObject({ deferred: 'hidden_field', result: { id: expect.stringMatching(/^deal_/), title: 'No margin' } });
    const id = (created.result as { id: string }).id;
    expect((await client.execute('activities.log', { kind: 'note', dealId: id })).deferred).toBe('awaits_record');
    await client.syncNow();
    expect(client.status().rejected.map((r) => [r.name, r.error.code])).toEqual([['deals.create', 'VALIDATION'], ['activities.log', 'VALIDATION']]);
    expect(client.status()).toMatchObject({ pending: 0, deferred: [] });
    await expect(o.crm.deals.get(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
