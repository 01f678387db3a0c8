import { describe, expect, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createTestCrm } from '@crmkit/core/testing';

describe('scheduler notices reach handlers', () => {
  it('a throwing (or rejecting) handler gets the notice again; the failure is counted, nothing is lost', async () => {
    const { crm, clock } = await createTestCrm({ logger: silentLogger });
    const calls: string[] = [];
    crm.on('task.due', async (event) => {
      calls.push(event.data.key);
      if (calls.length === 1) throw new Error('mail server down');
      if (calls.length === 2) await Promise.reject(new Error('still down'));
    });
    await crm.scheduler.tick();
    await crm.tasks.create({ subject: 'Call', dueAt: new Date(clock.now() + 60_000).toISOString() });
    for (let i = 0; i < 8; i++) {
      clock.advance(60_000);
      await crm.scheduler.tick();
    }
    expect(calls).toHaveLength(3);
    expect(new Set(calls).size).toBe(1);
    const status = await crm.events.status('crmkit.scheduler.notices:task.due');
    expect(status.failures).toBe(2);
    expect(status.pending + status.parked).toBe(0);
    await crm.close();
  });

  it('a process that ticks without notice handlers leaves the notices to the one with handlers', async () => {
    const { crm: a, clock, storage } = await createTestCrm({ closeStorage: false });
    const admin = await createCrm({ storage, clock, tenantId: 'test', closeStorage: false, logger: silentLogger, features: [tasks(), scheduler()] });
    const got: string[] = [];
    a.on('task.due', (event) => void got.push(event.data.key));
    await Promise.all([a.scheduler.tick(), admin.scheduler.tick()]);
    for (let i = 0; i < 8; i++) await a.tasks.create({ subject: `T${i}`, dueAt: new Date(clock.now() + 60_000).toISOString() });
    clock.advance(60_000);
    await admin.scheduler.tick();
    await a.scheduler.tick();
    expect(got).toHaveLength(8);
    expect(new Set(got).size).toBe(8);
    await a.close();
    await admin.close();
  });
});
