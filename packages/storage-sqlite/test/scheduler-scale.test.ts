import { describe, expect, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { imports } from '@crmkit/core/imports';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { timeline } from '@crmkit/core/timeline';
import { createSqliteStorage } from '@crmkit/storage-sqlite';

describe('scheduler at scale (sqlite)', () => {
  // A tick used to stop after 10 000 batches without a word: with batchSize 1, task 10 001 was never due.
  it('one tick handles every due task, however many batches that takes', { timeout: 300_000 }, async () => {
    const clock = createFakeClock('2026-03-02T09:00:00.000Z');
    const crm = await createCrm({ storage: createSqliteStorage({ filename: ':memory:' }), tenantId: 'acme', clock, logger: silentLogger, random: { seed: 1 }, features: [tasks(), imports(), scheduler({ batchSize: 1 }), timeline()] });
    try {
      await crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New', taskTemplates: [{ subject: 'Call', type: 'call', due: { amount: 5, unit: 'minutes' } }] }] });
      const n = 10_001;
      await crm.imports.deals(Array.from({ length: n }, (_, i) => ({ title: `Deal ${i}` })));
      clock.advance(10 * 60_000);
      const report = await crm.scheduler.tick();
      expect(report.due).toBe(n);
      expect((await crm.eventLog.list({ where: { op: 'eq', field: 'type', value: 'task.due' }, limit: 1000 })).items).toHaveLength(1000);
      expect(await crm.scheduler.tick()).toMatchObject({ due: 0 });
    } finally {
      await crm.close();
    }
  });
});
