import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from '../client/support.js';

const DAY = 86_400_000;

/**
 * review13: work done offline is judged and dated by the server's clock at push time. activities.log takes the
 * device time ("the business time is when the rep did it"); the other commands do not.
 */
describe('review13: offline work synced two days later', () => {
  it('a task completed offline on Monday is completed on Monday (completedAt), not at sync time', async () => {
    const { crm, clock: serverClock, server: sync } = await serverOf(() => createMemoryStorage());
    const task = await crm.tasks.create({ subject: 'Visit', dueAt: '2026-01-05T15:00:00.000Z' } as never);
    const anna = await syncedDevice(sync, { user: 'anna', seed: 4 });
    await anna.client.syncNow();
    anna.faults.online = false;
    const done = (await anna.client.crm.tasks.complete(task.id)) as { task: { completedAt: string } };
    serverClock.advance(2 * DAY);
    anna.clock.advance(2 * DAY);
    anna.faults.online = true;
    await anna.client.syncNow();
    expect((await crm.tasks.get(task.id)).completedAt).toBe(done.task.completedAt);
  });

  it('a task postponed offline on Monday to Tuesday is not rejected when it syncs on Wednesday', async () => {
    const { crm, clock: serverClock, server: sync } = await serverOf(() => createMemoryStorage());
    const task = await crm.tasks.create({ subject: 'Visit', dueAt: '2026-01-05T15:00:00.000Z' } as never);
    const anna = await syncedDevice(sync, { user: 'anna', seed: 5 });
    await anna.client.syncNow();
    anna.faults.online = false;
    await anna.client.crm.tasks.postpone(task.id, { until: '2026-01-06T15:00:00.000Z' });
    serverClock.advance(2 * DAY);
    anna.clock.advance(2 * DAY);
    anna.faults.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected).toEqual([]);
    expect((await crm.tasks.get(task.id)).dueAt).toBe('2026-01-06T15:00:00.000Z');
  });

  it('a deal advanced offline on Monday enters its stage on Monday (stage history), not at sync time', async () => {
    const { crm, clock: serverClock, server: sync, pipeline } = await serverOf(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 6 });
    await anna.client.syncNow();
    anna.faults.online = false;
    const moved = await anna.client.crm.deals.advance(deal.id);
    serverClock.advance(2 * DAY);
    anna.clock.advance(2 * DAY);
    anna.faults.online = true;
    await anna.client.syncNow();
    expect((await crm.deals.get(deal.id)).stageEnteredAt).toBe((moved as { stageEnteredAt: string }).stageEnteredAt);
  });
});
