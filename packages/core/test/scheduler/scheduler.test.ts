import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, where, type CrmEvent, type StorageAdapter, type Task } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler, taskNotices } from '@crmkit/core/scheduler';
import { tasks as tasksFeature } from '@crmkit/core/tasks';
import { timeline } from '@crmkit/core/timeline';
import { createFakeClock, createTestCrm } from '@crmkit/core/testing';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('scheduler', () => {
  it('fires reminders, due and overdue once each, at their times', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z' });
    const seen: string[] = [];
    expect(await crm.scheduler.tick()).toEqual({ reminders: 0, due: 0, overdue: 0, recurrences: 0, rotting: 0, delivered: 0, retried: 0, prunedNotices: 0, automations: 0 });
    crm.on('*', (e) => e.type.startsWith('task.') && e.type !== 'task.created' && seen.push(`${e.type}@${new Date(clock.now()).toISOString().slice(11, 16)}`));
    await crm.tasks.create({ subject: 'Call', dueAt: '2026-03-02T10:00:00Z', reminders: [60, 15], ownerId: 'anna' });
    expect(await crm.scheduler.tick()).toMatchObject({ reminders: 0, due: 0 });
    clock.set('2026-03-02T09:00:00Z');
    expect(await crm.scheduler.tick()).toMatchObject({ reminders: 1 });
    clock.set('2026-03-02T09:50:00Z');
    await crm.scheduler.tick();
    await crm.scheduler.tick();
    clock.set('2026-03-02T12:00:00Z');
    expect(await crm.scheduler.tick()).toMatchObject({ due: 1, overdue: 1, delivered: 2 });
    expect(await crm.scheduler.tick()).toMatchObject({ reminders: 0, due: 0, overdue: 0 });
    expect(seen).toEqual(['task.reminder@09:00', 'task.reminder@09:50', 'task.due@12:00', 'task.overdue@12:00']);
    const [due] = (await crm.eventLog.list({ where: where.eq('type', 'task.due') })).items;
    expect(due!.data).toMatchObject({ dueAt: '2026-03-02T10:00:00.000Z', ownerId: 'anna', subject: 'Call', key: expect.stringMatching(/^due:/) });
  });

  it('an all-day task is overdue when its day is over; postponing re-arms its notices', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z' });
    const task = await crm.tasks.create({ subject: 'Report', allDay: true, dueDate: '2026-03-02' });
    clock.set('2026-03-02T23:00:00Z');
    expect(await crm.scheduler.tick()).toMatchObject({ overdue: 0 });
    clock.set('2026-03-03T00:00:01Z');
    expect(await crm.scheduler.tick()).toMatchObject({ overdue: 1 });
    const moved = await crm.tasks.postpone(task.id, { until: '2026-03-04T10:00:00Z' });
    expect(moved).toMatchObject({ dueDate: '2026-03-04', dueAt: '2026-03-04T00:00:00.000Z' });
    clock.set('2026-03-04T12:00:00Z');
    expect(await crm.scheduler.tick()).toMatchObject({ due: 1, overdue: 0 });
    clock.set('2026-03-05T00:00:01Z');
    expect(await crm.scheduler.tick()).toMatchObject({ due: 0, overdue: 1 });
  });

  it('creates the next occurrence of a recurring task when its time passes, once', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z' });
    const first = await crm.tasks.create({ subject: 'Daily', dueAt: '2026-03-02T09:00:00Z', recurrence: 'FREQ=DAILY;COUNT=3' });
    clock.set('2026-03-02T09:30:00Z');
    expect(await crm.scheduler.tick()).toMatchObject({ recurrences: 1 });
    expect(await crm.scheduler.tick()).toMatchObject({ recurrences: 0 });
    clock.set('2026-03-05T09:30:00Z');
    await crm.scheduler.tick();
    const series = (await crm.tasks.list({ where: where.eq('recurrence.seriesId', first.recurrence!.seriesId), orderBy: [{ field: 'dueAt' }] })).items;
    expect(series.map((t) => t.dueAt)).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z', '2026-03-04T09:00:00.000Z']);
    // Completing an occurrence whose successor exists does not create it twice.
    expect((await crm.tasks.complete(series[0]!.id)).created).toEqual([]);
  });

  it('emits deal.rotting once per rotting episode', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z' });
    await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', rottenDays: 2 }] });
    const deal = await crm.deals.create({ title: 'Slow' });
    const rotting: CrmEvent[] = [];
    crm.on('deal.rotting', (e) => rotting.push(e));
    clock.advance(DAY);
    await crm.scheduler.tick();
    clock.advance(DAY + MIN);
    await crm.scheduler.tick();
    await crm.scheduler.tick();
    expect(rotting.map((e) => e.data)).toEqual([{ key: `rot:${deal.id}:2026-03-02T08:00:00.000Z`, stageKey: 'a', since: '2026-03-04T08:00:00.000Z', lastActivityAt: '2026-03-02T08:00:00.000Z', rottenDays: 2, ownerId: 'tester' }]);
    expect((await crm.deals.get(deal.id)).rottingSince).toBe('2026-03-04T08:00:00.000Z');
    await crm.activities.log({ kind: 'note', dealId: deal.id, body: 'woke up' });
    expect((await crm.deals.get(deal.id)).rottingSince).toBeUndefined();
    clock.advance(3 * DAY);
    await crm.scheduler.tick();
    expect(rotting).toHaveLength(2);
  });

  it('start() sleeps until the next computed wake-up and wakes early on local changes; stop() stops', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z', features: [tasksFeature(), scheduler({ maxSleepMs: 12 * HOUR })] });
    const fired: string[] = [];
    crm.on('task.due', (e) => fired.push(`${e.data.subject}@${new Date(clock.now()).toISOString().slice(11, 16)}`));
    await crm.tasks.create({ subject: 'A', dueAt: '2026-03-02T10:00:00Z' });
    crm.scheduler.start();
    await flush(clock, 0);
    expect(clock.nextTimerAt()).toBe(Date.parse('2026-03-02T10:00:00Z'));
    await crm.tasks.create({ subject: 'B', dueAt: '2026-03-02T09:15:00Z' });
    await flush(clock, 0);
    expect(clock.nextTimerAt()).toBe(Date.parse('2026-03-02T09:15:00Z'));
    await flush(clock, 75 * MIN);
    await flush(clock, 45 * MIN);
    expect(fired).toEqual(['B@09:15', 'A@10:00']);
    await crm.scheduler.stop();
    expect(clock.pendingTimers()).toBe(0);
    await crm.close();
  });

  it('start() wakes for the retry of a failed notice when its backoff is due, not after maxSleepMs', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z', features: [tasksFeature(), events(), scheduler({ maxSleepMs: 12 * HOUR })] });
    const calls: string[] = [];
    crm.on('task.due', () => {
      calls.push(new Date(clock.now()).toISOString());
      if (calls.length === 1) throw new Error('smtp down');
    });
    await crm.tasks.create({ subject: 'A', dueAt: '2026-03-02T09:00:00Z' });
    crm.scheduler.start();
    await flush(clock, 0);
    await flush(clock, HOUR);
    expect(calls).toEqual(['2026-03-02T09:00:00.000Z']);
    const retryAt = clock.nextTimerAt()!;
    expect(retryAt).toBeLessThan(Date.parse('2026-03-02T09:00:00Z') + HOUR);
    await flush(clock, retryAt - clock.now());
    expect(calls).toHaveLength(2);
    expect((await crm.events.status('crmkit.scheduler.notices:task.due')).pending).toBe(0);
    await crm.scheduler.stop();
    await crm.close();
  });

  it('for random ticks, restarts, crashes and clock jumps, every due notice is recorded once and reaches handlers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ dueIn: fc.integer({ min: 1, max: 72 * 60 }), reminders: fc.uniqueArray(fc.constantFrom(0, 5, 30, 120, 1440), { maxLength: 3 }), allDay: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 36 * 60 }) }),
            fc.record({ kind: fc.constant('back' as const), minutes: fc.integer({ min: 1, max: 12 * 60 }) }),
            fc.constant({ kind: 'tick' as const }),
            fc.constant({ kind: 'restart' as const }),
            fc.constant({ kind: 'crash' as const }),
          ),
          { maxLength: 25 },
        ),
        async (plans, steps) => {
          const clock = createFakeClock('2026-03-02T08:00:00.000Z');
          const storage = createMemoryStorage();
          const handled = new Map<string, number>(); // what live handlers processed, deduped by key
          let crashing = false;
          // A storage view that dies when a notice delivery commits its checkpoint: the crash between the
          // handlers and the acknowledgement (the dead process's handlers do not count).
          const flaky: StorageAdapter = {
            ...storage,
            open: (s) => storage.open(s),
            onChange: (l) => storage.onChange(l),
            close: async () => {},
            transaction: (mode, fn) =>
              storage.transaction(mode, (tx) =>
                fn({
                  ...tx,
                  getMany: tx.getMany,
                  query: tx.query,
                  aggregate: tx.aggregate,
                  write: async (entity, tenant, ops) => {
                    if (crashing && entity === 'consumer' && ops.some((o) => o.type === 'update' && !('leaseToken' in o.row))) throw new Error('process killed');
                    return tx.write(entity, tenant, ops);
                  },
                  nextSequence: tx.nextSequence,
                  claim: tx.claim,
                  lockKeys: tx.lockKeys,
                }),
              ),
          };
          const boot = async () => {
            const crm = await createCrm({ storage: flaky, tenantId: 't', clock, logger: silentLogger, random: { seed: 3 }, closeStorage: false, features: [tasksFeature(), scheduler(), timeline()] });
            crm.on('*', (e) => {
              const key = (e.data as { key?: string }).key;
              if (key && !crashing) handled.set(key, (handled.get(key) ?? 0) + 1);
            });
            return crm;
          };
          let crm = await boot();
          await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', rottenDays: 1 }] });
          await crm.deals.create({ title: 'Rots' });
          const tasks: Task[] = [];
          for (const plan of plans) {
            const dueAt = new Date(clock.now() + plan.dueIn * MIN).toISOString();
            tasks.push(await crm.tasks.create(plan.allDay ? { subject: 'T', allDay: true, dueAt, timezone: 'UTC', reminders: plan.reminders } : { subject: 'T', dueAt, reminders: plan.reminders }));
          }
          for (const step of steps) {
            if (step.kind === 'advance') clock.advance(step.minutes * MIN);
            if (step.kind === 'back') clock.set(clock.now() - step.minutes * MIN);
            if (step.kind === 'tick') await crm.scheduler.tick();
            if (step.kind === 'restart') crm = await boot();
            if (step.kind === 'crash') {
              crashing = true;
              await crm.scheduler.tick().catch(() => undefined);
              crashing = false;
              crm = await boot(); // the killed process's handlers never ran
            }
          }
          clock.set(Date.parse('2026-03-02T08:00:00.000Z') + 10 * DAY);
          await crm.scheduler.tick();
          await crm.scheduler.tick();

          const expected = new Set<string>(['rot:' + (await crm.deals.list()).items[0]!.id + ':2026-03-02T08:00:00.000Z']);
          for (const task of tasks) for (const n of taskNotices(task)) if (n.kind !== 'recur' && n.at > Date.parse(task.createdAt)) expected.add(n.key);
          const recorded = (await crm.eventLog.list({ limit: 1000 })).items.map((e) => (e.data as { key?: string }).key).filter((k): k is string => !!k);
          expect([...recorded].sort()).toEqual([...expected].sort()); // recorded exactly once each
          expect([...handled.keys()].sort()).toEqual([...expected].sort()); // every one reached a live handler
          expect([...handled.values()].every((n) => n === 1)).toBe(true); // and only one
          // The notice consumers (one per type, 4 partitions each) are caught up: no event of a consumer's type after its checkpoint.
          const consumers = storage.snapshot().consumer?.t ?? [];
          expect(consumers).toHaveLength(16);
          const events = storage.snapshot().event?.t ?? [];
          for (const c of consumers) expect(events.filter((e) => (c.types as string[]).includes(e.type as string) && (e.position as number) > (c.position as number))).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});

/** Advances the fake clock and lets the scheduler's async work settle. */
async function flush(clock: ReturnType<typeof createFakeClock>, ms: number): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  clock.advance(ms);
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
