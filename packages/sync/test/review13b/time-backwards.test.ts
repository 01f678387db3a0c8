import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from '../client/support.js';

const DAY = 86_400_000;

/**
 * review13b B6: R7 runs a pushed command at the user's time. A non-versioned command done offline on Monday
 * and synced on Wednesday is applied *after* the office's Wednesday work but stamped Monday: core's
 * `deals.update` sets `lastActivityAt = op.now` unconditionally (unlike `touch-records.ts`, which only moves
 * it forward), so the deal's last activity goes back two days — rotting filters and the scheduler's
 * `deal.rotting` see a deal idle since Monday although the office called the customer on Wednesday.
 * `updatedAt` goes back the same way (a Wednesday change reads as Monday's).
 */
describe('review13b: offline work applied after newer office work', () => {
  it('does not move a deal\'s lastActivityAt / updatedAt backwards', async () => {
    const { crm, clock: serverClock, server: sync, pipeline } = await serverOf(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 136 });
    await anna.client.syncNow();
    anna.faults.online = false;
    await anna.client.crm.deals.update(deal.id, { title: 'Acme GmbH' }); // Monday, offline
    serverClock.advance(2 * DAY);
    anna.clock.advance(2 * DAY);
    await crm.deals.update(deal.id, { expectedCloseDate: '2026-02-01' } as never); // the office, Wednesday
    const wednesday = await crm.deals.get(deal.id);
    anna.faults.online = true;
    await anna.client.syncNow();
    const after = await crm.deals.get(deal.id);
    expect(after.title).toBe('Acme GmbH');
    expect({ lastActivityAt: after.lastActivityAt >= wednesday.lastActivityAt, updatedAt: after.updatedAt >= wednesday.updatedAt })
      .toEqual({ lastActivityAt: true, updatedAt: true });
  });
});
