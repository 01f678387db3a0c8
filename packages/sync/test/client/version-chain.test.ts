import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from './support.js';

/**
 * review13 R3: a versioned command whose version the device predicted from its own pending commands names
 * them in `after`; when one of them is rejected, the server rejects the successor with CONFLICT even if a
 * foreign write produced the predicted number (ABA).
 */
describe('a version predicted from a rejected command', () => {
  const setup = async (server: Parameters<typeof serverOf>[1] = {}) => {
    const s = await serverOf(() => createMemoryStorage(), server);
    const deal = await s.crm.deals.create({ title: 'Acme', pipelineId: s.pipeline.id });
    const anna = await syncedDevice(s.server, { user: 'anna', seed: 5 });
    await anna.client.syncNow();
    anna.faults.online = false;
    return { ...s, deal, anna };
  };

  // fix13i: the reopen carries the server version the user saw (v1), not a prediction; the version check refuses it (no `after`).
  it('through a field patch in between (lose rejected, update applied, reopen on the version she saw): no ABA', async () => {
    const { crm, deal, anna } = await setup();
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' }); // v1 → v2 (predicted)
    await anna.client.crm.deals.update(deal.id, { title: 'Acme 2' }); // v3 (predicted), not versioned
    await anna.client.crm.deals.reopen(deal.id, { toStage: 'proposal' }); // carries v1 (the shadow's base)
    await crm.as({ userId: 'ben' }).deals.win(deal.id); // server v2
    anna.faults.online = true;
    await anna.client.syncNow();
    const rejected = anna.client.status().rejected.map((r) => [r.name, r.error.code, (r.error.details as { reason?: string }).reason]);
    expect(rejected).toEqual([['deals.lose', 'CONFLICT', undefined], ['deals.reopen', 'CONFLICT', undefined]]);
    const server = await crm.deals.get(deal.id);
    expect([server.status, server.title]).toEqual(['won', 'Acme 2']);
    expect((await anna.client.crm.deals.get(deal.id)).status).toBe('won');
  });

  it('when the predecessor is rejected in an earlier push (one command per push): the device holds its acknowledgement', async () => {
    const { crm, deal, anna } = await setup({ server: { limits: { commands: 1 } } });
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' });
    await anna.client.crm.deals.reopen(deal.id, { toStage: 'new' });
    await crm.as({ userId: 'ben' }).deals.win(deal.id);
    anna.faults.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => r.name)).toEqual(['deals.lose', 'deals.reopen']);
    expect((await crm.deals.get(deal.id)).status).toBe('won');
  });

  it('a chain whose predecessors applied goes through (tasks: postpone then complete)', async () => {
    const { crm, anna } = await setup();
    anna.faults.online = true;
    const task = await anna.client.crm.tasks.create({ subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' });
    await anna.client.syncNow();
    anna.faults.online = false;
    await anna.client.crm.tasks.postpone(task.id, { until: '2026-01-07T09:00:00.000Z' });
    await anna.client.crm.tasks.complete(task.id); // after [postpone]
    anna.faults.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected).toEqual([]);
    expect((await crm.tasks.get(task.id)).status).toBe('done');
  });

  it('a task completed after a rejected postpone is refused, not applied over the foreign change', async () => {
    const { crm, anna } = await setup();
    anna.faults.online = true;
    const task = await anna.client.crm.tasks.create({ subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' });
    await anna.client.syncNow();
    anna.faults.online = false;
    await anna.client.crm.tasks.postpone(task.id, { until: '2026-01-07T09:00:00.000Z' }); // carries v1
    await anna.client.crm.tasks.complete(task.id); // predicted v2 after the postpone
    await crm.tasks.update(task.id, { subject: 'Call back' }); // server v2: the postpone conflicts, v2 is the predicted number
    anna.faults.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => r.name)).toEqual(['tasks.postpone', 'tasks.complete']);
    expect((await crm.tasks.get(task.id)).status).not.toBe('done');
  });
});
