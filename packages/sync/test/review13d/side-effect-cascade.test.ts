import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13d D1: a command the server refuses for a reason only it can see (here a legitimate CONFLICT: the office
 * edited the task) takes down the user's later move on *another* record that the refused command touched on the
 * device as a side effect (completing a task recomputes its deal's next step). Nobody but the user wrote the deal;
 * the same two clicks online (`crm.as`) lose the deal.
 */
describe('review13d D1: a refused command does not take down moves on records it only touched on the device', () => {
  it('office edits the task; the device completes it (CONFLICT) and loses the deal: the deal is lost', async () => {
    const o = await office();
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    const task = await o.crm.tasks.create({ subject: 'Call', ownerId: 'anna', dealId: deal.id, dueAt: '2026-01-06T10:00:00.000Z' });
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    await o.crm.tasks.update(task.id, { subject: 'Call Acme' }); // the office edits the task only
    await anna.client.crm.tasks.complete(task.id);
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' });
    anna.network.online = true;
    await anna.client.syncNow();
    const rejected = anna.client.status().rejected.map((r) => [r.name, r.error.code, (r.error.details as { reason?: string } | undefined)?.reason]);
    // Online: the same user's `tasks.complete(task, { version: 1 })` is a CONFLICT, `deals.lose(deal, { version })` is applied.
    expect(rejected).toEqual([['tasks.complete', 'CONFLICT', undefined]]);
    expect((await o.crm.deals.get(deal.id)).status).toBe('lost');
  });
});
