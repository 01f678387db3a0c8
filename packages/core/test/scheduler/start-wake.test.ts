import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock, type FakeClock } from '@crmkit/core/testing';

/**
 * What `scheduler.start()` sleeps for: every reason a notice may become deliverable must bound the
 * sleep — a retry waiting in the backlog (whatever ticks ran since it was left) and partitions another
 * process holds (taken over once its lease expires) — not `maxSleepMs`.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const LEASE = 30_000;

const boot = (storage: StorageAdapter, clock: FakeClock) =>
  createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [tasks(), events(), scheduler({ maxSleepMs: 12 * HOUR, leaseMs: LEASE })] });

async function flush(clock: FakeClock, ms: number): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
  clock.advance(ms);
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
}

describe('scheduler.start() wake-ups', () => {
  it('a failed notice is retried when its backoff ends even after an unrelated tick ran in between', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const crm = await boot(storage, clock);
    const calls: number[] = [];
    crm.on('task.due', () => {
      calls.push(clock.now());
      if (calls.length === 1) throw new Error('smtp down');
    });
    await crm.tasks.create({ subject: 'A', dueAt: '2026-03-02T09:00:00Z' });
    crm.scheduler.start();
    await flush(clock, 0);
    await flush(clock, HOUR); // due: the handler fails, a retry waits in the backlog
    expect(calls).toHaveLength(1);
    const retryAt = clock.nextTimerAt()!;
    expect(retryAt).toBeLessThan(Date.parse('2026-03-02T09:00:00Z') + HOUR);
    // An unrelated change wakes the scheduler early: its tick finds the retry not due yet and must keep the wake-up.
    await crm.tasks.create({ subject: 'next week', dueAt: '2026-03-09T09:00:00Z' });
    await flush(clock, 0);
    expect(clock.nextTimerAt()).toBeLessThanOrEqual(retryAt);
    await flush(clock, retryAt - clock.now());
    expect(calls).toHaveLength(2);
    expect((await crm.events.status('crmkit.scheduler.notices:task.due')).pending).toBe(0);
    await crm.scheduler.stop();
    await crm.close();
  });

  it('a retry left by another process bounds the sleep too', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const a = await boot(storage, clock);
    const b = await boot(storage, clock);
    let failing = true;
    a.on('task.due', () => {
      throw new Error('smtp down');
    });
    const gotB: number[] = [];
    b.on('task.due', () => {
      if (failing) throw new Error('not yet');
      gotB.push(clock.now());
    });
    await a.tasks.create({ subject: 'A', dueAt: '2026-03-02T09:00:00Z' });
    clock.set('2026-03-02T09:00:00Z');
    await a.scheduler.tick(); // A fails once: a retry waits in the backlog
    expect((await a.events.status('crmkit.scheduler.notices:task.due')).pending).toBe(1);
    await a.close();
    failing = false;
    b.scheduler.start();
    await flush(clock, 0);
    const wake = clock.nextTimerAt()!;
    expect(wake - clock.now()).toBeLessThan(HOUR);
    for (let i = 0; i < 5 && gotB.length === 0; i++) await flush(clock, clock.nextTimerAt()! - clock.now());
    expect(gotB).toHaveLength(1);
    await b.scheduler.stop();
    await b.close();
  });

  it('a partition held by another process, with the others free: looks again after about one lease and takes it over', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const a = await boot(storage, clock);
    const b = await boot(storage, clock);
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // A "dies" mid-handler: its handler never returns while the test runs, its lease (fake time) runs out.
    a.on('task.due', () => {
      entered();
      return gate;
    });
    const gotB: string[] = [];
    b.on('task.due', (e) => void gotB.push((e.data as { key: string }).key));
    await a.tasks.create({ subject: 'A', dueAt: '2026-03-02T09:00:00Z' });
    clock.set('2026-03-02T09:00:00Z');
    const tickA = a.scheduler.tick();
    await inHandler;
    b.scheduler.start();
    await flush(clock, 0);
    // B claimed the three free partitions and found nothing; the fourth is A's until its lease ends.
    expect(gotB).toEqual([]);
    expect(clock.nextTimerAt()! - clock.now()).toBeLessThanOrEqual(LEASE);
    for (let i = 0; i < 3 && gotB.length === 0; i++) await flush(clock, clock.nextTimerAt()! - clock.now());
    expect(gotB).toHaveLength(1);
    expect(clock.now()).toBeLessThanOrEqual(Date.parse('2026-03-02T09:00:00Z') + 2 * LEASE);
    release();
    await tickA;
    await b.scheduler.stop();
    await a.close();
    await b.close();
  });
});
