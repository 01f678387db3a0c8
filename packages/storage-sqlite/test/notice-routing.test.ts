import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger, type CrmEvent, type StorageAdapter } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { timeline } from '@crmkit/core/timeline';
import { createFakeClock, type FakeClock } from '@crmkit/core/testing';
import { fleetEngines } from './support/fleet.js';

/**
 * Two crms, each with its own connection(s), on one SQLite file and on one PostgreSQL schema, with
 * different notice handlers: each notice reaches a crm that handles its type, once; a crm without a
 * handler of a type (or with view listeners only) never claims or acknowledges it. (The child-process
 * version, with kills, is in fleet.test.ts.)
 */

const TYPES = ['task.reminder', 'task.due', 'task.overdue', 'deal.rotting'] as const;

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'notices');
afterAll(() => end());

const boot = async (storage: StorageAdapter, clock: FakeClock) => {
  const crm = await createCrm({ storage, clock, tenantId: 't', logger: silentLogger, features: [tasks(), events(), timeline(), scheduler({ overdueAfterMinutes: 30 }), access()] });
  cleanups.push(() => crm.close());
  return crm;
};
type Process = Awaited<ReturnType<typeof boot>>;

function listen(crm: Process, types: readonly string[]): string[] {
  const got: string[] = [];
  for (const type of types) crm.on(type as 'task.due', (e: CrmEvent) => void got.push(`${e.type} ${(e.data as { key: string }).key}`));
  return got;
}

async function noticesAhead(crm: Process, clock: FakeClock, count: number): Promise<void> {
  const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', rottenDays: 1 }] });
  for (let i = 0; i < count; i++) {
    await crm.tasks.create({ subject: `T${i}`, dueAt: new Date(clock.now() + (10 + i) * 60_000).toISOString(), reminders: [5] });
    await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id });
  }
}

describe.each(engines)('scheduler notices on two $name crms with different handlers', { timeout: 120_000 }, (engine) => {
  it('each notice reaches the crm that handles its type, once; the other never acknowledges it', async () => {
    const db = await engine.make();
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const a = await boot(db.storage(), clock);
    const b = await boot(db.storage(), clock);
    const gotA = listen(a, ['task.reminder', 'task.due']);
    const gotB = listen(b, ['task.overdue', 'deal.rotting', 'task.due']);
    await a.scheduler.tick();
    await noticesAhead(a, clock, 4);
    for (let step = 0; step < 12; step++) {
      clock.advance(10 * 60_000 + (step === 8 ? 86_400_000 : 0));
      // Both at once, and A first: with one consumer for every type A took (and lost) B's notices.
      await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
      await a.scheduler.tick();
    }
    await b.scheduler.tick();
    const { items } = await a.eventLog.list({ where: { op: 'in', field: 'type', values: [...TYPES] }, limit: 1000 });
    const recorded = items.map((e) => `${e.type} ${(e.data as { key: string }).key}`).sort();
    expect(recorded).toHaveLength(16);
    expect(gotA.filter((k) => !k.startsWith('task.reminder') && !k.startsWith('task.due'))).toEqual([]);
    expect(gotB.filter((k) => k.startsWith('task.reminder'))).toEqual([]);
    expect([...gotA, ...gotB].sort()).toEqual(recorded);
    for (const type of TYPES) {
      const status = await a.events.status(`crmkit.scheduler.notices:${type}`);
      expect([type, status.handled, status.lag, status.pending, status.parked]).toEqual([type, 4, 0, 0, 0]);
    }
  });

  it('a crm with view listeners only claims nothing; a handler registered later gets the backlog', async () => {
    const db = await engine.make();
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const a = await boot(db.storage(), clock);
    await a.access.setPolicy({ roles: { viewer: { grants: { task: { read: 'all' }, deal: { read: 'all' } } } }, defaultRoles: ['viewer'] });
    a.as({ userId: 'anna' }).on('*', () => undefined);
    await a.scheduler.tick();
    await noticesAhead(a, clock, 3);
    clock.advance(2 * 86_400_000);
    const report = await a.scheduler.tick();
    expect([report.reminders, report.due, report.overdue, report.rotting, report.delivered]).toEqual([3, 3, 3, 3, 0]);
    for (const type of TYPES) {
      const status = await a.events.status(`crmkit.scheduler.notices:${type}`);
      expect([type, status.handled, status.lag, status.partitions.filter((p) => p.leaseOwner).length]).toEqual([type, 0, 3, 0]);
    }
    // Another crm, started later with a due handler, gets the due notices; A, given a reminder handler, the reminders.
    const b = await boot(db.storage(), clock);
    const gotB = listen(b, ['task.due']);
    expect((await b.scheduler.tick()).delivered).toBe(3);
    const gotA = listen(a, ['task.reminder']);
    expect((await a.scheduler.tick()).delivered).toBe(3);
    expect([gotA.length, gotB.length]).toEqual([3, 3]);
    expect((await a.events.status('crmkit.scheduler.notices:task.overdue')).lag).toBe(3);
  });
});
