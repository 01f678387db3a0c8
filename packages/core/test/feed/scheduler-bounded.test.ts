import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { events } from '@crmkit/core/feed';
import { expectCrmError } from '../helpers.js';

const HOUR = 3_600_000;

/** Sizes of every collection an object keeps, one level into the objects it holds (the notice runner). */
function collectionSizes(root: object): Record<string, number> {
  const out: Record<string, number> = {};
  const visit = (value: unknown, path: string, depth: number) => {
    if (value instanceof Set || value instanceof Map) out[path] = value.size;
    else if (Array.isArray(value)) out[path] = value.length;
    else if (value && typeof value === 'object' && depth < 2 && !(value instanceof Promise)) {
      for (const [key, inner] of Object.entries(value)) if (key !== 'ctx') visit(inner, `${path}.${key}`, depth + 1);
    }
  };
  for (const [key, value] of Object.entries(root)) if (key !== 'ctx') visit(value, key, 0);
  return out;
}

async function setup(options: Parameters<typeof scheduler>[0] = {}) {
  const t = await createTestCrm({ features: [tasks(), scheduler({ batchSize: 5, ...options }), events()] });
  const countNotices = () => (t.storage.snapshot().notification?.test ?? []).length;
  return { ...t, countNotices };
}

describe('scheduler: bounded memory and storage', () => {
  it('keeps no in-memory structure that grows with ticks (the per-batch known set dies with its batch)', async () => {
    const { crm, clock } = await setup({ noticeRetentionDays: 1 });
    const tick = async (n: number) => {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < 7; j++) await crm.tasks.create({ subject: `Call ${i}.${j}`, dueAt: new Date(clock.now() + 30 * 60_000).toISOString(), reminders: [15] });
        clock.advance(HOUR);
        await crm.scheduler.tick();
      }
    };
    await tick(5);
    const early = collectionSizes(crm.scheduler);
    expect(Object.keys(early).length).toBeGreaterThan(0); // the runner's timers, wakers and loops are seen
    await tick(45);
    expect(collectionSizes(crm.scheduler)).toEqual(early);
  }, 60_000); // 350 tasks and 50 ticks: ~1 s alone, 9–12 s on a loaded shared machine

  it('deletes notice rows older than noticeRetentionDays, so the notification table stays bounded', async () => {
    const { crm, clock, countNotices } = await setup({ noticeRetentionDays: 1 });
    const delivered: string[] = [];
    crm.on('task.due', (e) => void delivered.push(e.subjectId));
    const counts: number[] = [];
    let pruned = 0;
    for (let i = 0; i < 72; i++) {
      await crm.tasks.create({ subject: `Call ${i}`, dueAt: new Date(clock.now() + 30 * 60_000).toISOString() });
      clock.advance(HOUR);
      const report = await crm.scheduler.tick();
      pruned += report.prunedNotices;
      counts.push(countNotices());
    }
    expect(delivered).toHaveLength(72); // every notice was recorded and delivered once
    // Per hour one due and (after the 60 min grace) one overdue notice: at most a day and a bit of them.
    expect(Math.max(...counts.slice(30))).toBeLessThanOrEqual(2 * 26);
    expect(counts.at(-1)).toBe(counts[40]);
    expect(pruned).toBeGreaterThan(80);
    // Nothing is recorded twice after its row was pruned.
    for (let i = 0; i < 10; i++) {
      clock.advance(HOUR);
      await crm.scheduler.tick();
    }
    expect(delivered).toHaveLength(72);
  });

  it('keeps notice rows for 30 days by default and refuses a bad retention', async () => {
    const { crm, clock, countNotices } = await setup();
    await crm.tasks.create({ subject: 'Call', dueAt: new Date(clock.now() + 60_000).toISOString() });
    clock.advance(HOUR);
    await crm.scheduler.tick();
    const recorded = countNotices();
    expect(recorded).toBeGreaterThan(0);
    clock.advance(29 * 24 * HOUR);
    expect((await crm.scheduler.tick()).prunedNotices).toBe(0);
    expect(countNotices()).toBe(recorded + 1); // the overdue notice
    clock.advance(2 * 24 * HOUR);
    expect((await crm.scheduler.tick()).prunedNotices).toBe(recorded + 1);
    expect(countNotices()).toBe(0);
    for (const bad of [0, 1.5, -1, 40_000]) await expectCrmError(Promise.resolve().then(() => scheduler({ noticeRetentionDays: bad })), 'VALIDATION');
  });
});
