import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13c C4: a rep who may not read the required custom field `margin` hands a deal over to a colleague, then
 * ticks off her own call task on it — offline. Online both succeed (the task stays hers). On the device the handover
 * is deferred (the `required` check), so only the deal's version is bumped (`touchRecord`); the server's handover
 * also rewrites the task (`parentOwner: deal:anna → deal:ben`, a new task version). Her `tasks.complete` carries
 * the old task version and is rejected with `CONFLICT` ("task … changed concurrently (expected version 1, stored
 * 2)"). Nobody else changed the task. (Without field rules the device runs the handover itself and it passes.)
 */
describe('review13c: a deal handed over, then its task completed, offline', () => {
  it('is accepted as it is online', async () => {
    const o = await office({ requiredMargin: true });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', custom: { margin: 30 } } as never);
    const task = await o.crm.tasks.create({ subject: 'Call Acme', ownerId: 'anna', dealId: deal.id } as never);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    expect((await anna.client.execute('deals.update', deal.id, { ownerId: 'ben' })).deferred).toBe('hidden_field');
    await anna.client.crm.tasks.complete(task.id);
    anna.network.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => [r.name, r.error.code, r.error.message])).toEqual([]);
    expect((await o.crm.tasks.get(task.id)).status).toBe('done');
  });
});
