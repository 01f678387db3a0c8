import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler, type SchedulerOptions } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

/** A notice handler slower than the default timeout (a third of a 600 ms lease: 200 ms). */
async function slowHandler(options: SchedulerOptions) {
  const clock = createFakeClock('2026-03-02T08:00:00.000Z');
  const crm = await createCrm({ storage: createMemoryStorage(), clock, tenantId: 't', logger: silentLogger, features: [tasks(), events(), scheduler(options)] });
  let calls = 0;
  let finished = 0;
  crm.on('task.due', async () => {
    calls++;
    await new Promise((resolve) => setTimeout(resolve, 300));
    finished++;
  });
  await crm.scheduler.tick();
  await crm.tasks.create({ subject: 'x', dueAt: new Date(clock.now() + 60_000).toISOString() });
  for (let i = 0; i < 4; i++) {
    clock.advance(3_600_000);
    await crm.scheduler.tick();
  }
  await new Promise((resolve) => setTimeout(resolve, 350));
  const status = await crm.events.status('crmkit.scheduler.notices:task.due');
  await crm.close();
  return { calls, finished, parked: status.parked, handled: status.handled };
}

describe('scheduler noticeTimeoutMs', () => {
  it('a handler slower than the default timeout is timed out and parked; noticeTimeoutMs gives it the time it needs', async () => {
    expect(await slowHandler({ leaseMs: 600 })).toMatchObject({ calls: 3, parked: 1, handled: 0 });
    expect(await slowHandler({ leaseMs: 600, noticeTimeoutMs: 500 })).toEqual({ calls: 1, finished: 1, parked: 0, handled: 1 });
  });

  it('refuses a timeout out of range or not below the lease with VALIDATION', async () => {
    for (const bad of [{ noticeTimeoutMs: 0 }, { noticeTimeoutMs: 1.5 }, { noticeTimeoutMs: 30_000 }, { leaseMs: 1000, noticeTimeoutMs: 960 }, { noticeTimeoutMs: 3_600_001 }]) {
      expect([...new Set(issuePaths(await expectCrmError(Promise.resolve().then(() => scheduler(bad)), 'VALIDATION')))]).toEqual(['noticeTimeoutMs']);
    }
    expect(() => scheduler({ leaseMs: 1000, noticeTimeoutMs: 950 })).not.toThrow();
  });
});
