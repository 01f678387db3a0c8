import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, type CrmEvent, type StorageAdapter } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { timeline } from '@crmkit/core/timeline';
import { createFakeClock, type FakeClock } from '@crmkit/core/testing';

/**
 * Scheduler notices on several "processes" (crms) sharing one storage, each with its own handler set:
 * a notice reaches a process that handles its type, once across them, and a process never acknowledges
 * a type it has no handler for (one consumer per notice type, `crmkit.scheduler.notices:<type>`).
 */

const TYPES = ['task.reminder', 'task.due', 'task.overdue', 'deal.rotting'] as const;
type NoticeType = (typeof TYPES)[number];

const boot = (storage: StorageAdapter, clock: FakeClock) =>
  createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [tasks(), events(), timeline(), scheduler({ overdueAfterMinutes: 30 }), access()] });
type Process = Awaited<ReturnType<typeof boot>>;

/** Records what a process's handlers got: `type key` per call. */
function listen(crm: Process, types: readonly (NoticeType | '*')[]): string[] {
  const got: string[] = [];
  for (const type of types) crm.on(type, (e: CrmEvent) => void got.push(`${e.type} ${(e.data as { key: string }).key}`));
  return got;
}

/** Tasks due soon with a 5-minute reminder, and a rotting deal: every notice type fires within 2 hours. */
async function noticesAhead(crm: Process, clock: FakeClock, count: number): Promise<void> {
  const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', rottenDays: 1 }] });
  for (let i = 0; i < count; i++) {
    await crm.tasks.create({ subject: `T${i}`, dueAt: new Date(clock.now() + (10 + i) * 60_000).toISOString(), reminders: [5] });
    await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id });
  }
}

async function noticeKeys(crm: Process): Promise<string[]> {
  const { items } = await crm.eventLog.list({ where: { op: 'in', field: 'type', values: [...TYPES] }, limit: 1000 });
  return items.map((e) => `${e.type} ${(e.data as { key: string }).key}`).sort();
}

describe('scheduler notices on processes with different handler sets', () => {
  it('every notice reaches the one process that handles its type, exactly once; the other never acknowledges it', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const a = await boot(storage, clock);
    const b = await boot(storage, clock);
    const gotA = listen(a, ['task.reminder', 'task.due']);
    const gotB = listen(b, ['task.overdue', 'deal.rotting', 'task.due']);
    await a.scheduler.tick(); // creates the notice consumers
    await noticesAhead(a, clock, 5);
    for (let step = 0; step < 30; step++) {
      clock.advance(5 * 60_000 + 3_600_000 * (step === 20 ? 24 : 0));
      // A ticks first every time: with one consumer for every type it took (and lost) B's notices.
      await a.scheduler.tick();
      await b.scheduler.tick();
    }
    const recorded = await noticeKeys(a);
    expect(recorded.filter((k) => k.startsWith('task.reminder'))).toHaveLength(5);
    expect(recorded.filter((k) => k.startsWith('task.overdue'))).toHaveLength(5);
    expect(recorded.filter((k) => k.startsWith('deal.rotting'))).toHaveLength(5);
    // A handles reminders and due, B overdue, rotting and due: each notice once, to a process handling its type.
    expect(gotA.every((k) => k.startsWith('task.reminder') || k.startsWith('task.due'))).toBe(true);
    expect(gotB.every((k) => !k.startsWith('task.reminder'))).toBe(true);
    expect([...gotA, ...gotB].sort()).toEqual(recorded);
    // The stored side: each type's consumer acknowledged each of its notices once, and has nothing left.
    for (const type of TYPES) {
      const status = await a.events.status(`crmkit.scheduler.notices:${type}`);
      expect([type, status.handled, status.lag, status.pending, status.parked]).toEqual([type, 5, 0, 0, 0]);
    }
    await a.close();
    await b.close();
  });

  it('a process with only view listeners claims nothing; a handler registered later picks up what was recorded since the first tick', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const a = await boot(storage, clock);
    const b = await boot(storage, clock);
    await a.access.setPolicy({ roles: { viewer: { grants: { task: { read: 'all' }, deal: { read: 'all' } } } }, defaultRoles: ['viewer'] });
    const heardInView: string[] = [];
    a.as({ userId: 'anna' }).on('*', (e) => void heardInView.push(e.type));
    const settled = () => new Promise((resolve) => setTimeout(resolve, 20)); // views filter events off the committing call
    const gotB = listen(b, ['task.due']);
    await a.scheduler.tick(); // the consumers start here (`from: 'now'`)
    await noticesAhead(a, clock, 3);
    clock.advance(30 * 60_000);
    const report = await a.scheduler.tick();
    expect(report.due + report.reminders + report.overdue).toBeGreaterThan(0);
    expect(report.delivered).toBe(0);
    await settled();
    expect(heardInView.filter((t) => (TYPES as readonly string[]).includes(t))).toEqual([]);
    // Nothing claimed, nothing acknowledged: every partition untouched since its creation.
    const rows = (storage.snapshot().consumer?.t ?? []) as unknown as { name: string; handled: number; turn: number; leaseOwner?: string }[];
    expect(rows).toHaveLength(16);
    expect(rows.filter((r) => r.handled > 0 || r.turn > 0 || r.leaseOwner)).toEqual([]);

    // B (a due handler) gets the due notices; A then registers a reminder handler and gets the backlog.
    await b.scheduler.tick();
    expect(gotB).toHaveLength(3);
    const gotA = listen(a, ['task.reminder']);
    expect((await a.scheduler.tick()).delivered).toBe(3);
    expect(gotA.map((k) => k.split(' ')[0])).toEqual(['task.reminder', 'task.reminder', 'task.reminder']);
    // A's view hears the notices dispatched in its process (A's reminders), not B's.
    await settled();
    expect(heardInView.filter((t) => (TYPES as readonly string[]).includes(t))).toEqual(['task.reminder', 'task.reminder', 'task.reminder']);
    // Overdue and rotting notices wait for a process that handles them: recorded, not acknowledged.
    clock.advance(2 * 86_400_000);
    await a.scheduler.tick();
    await b.scheduler.tick();
    for (const type of ['task.overdue', 'deal.rotting']) expect((await a.events.status(`crmkit.scheduler.notices:${type}`)).lag).toBe(3);
    const late = listen(b, ['*']);
    expect((await b.scheduler.tick()).delivered).toBe(6);
    expect(late.map((k) => k.split(' ')[0]).sort()).toEqual(['deal.rotting', 'deal.rotting', 'deal.rotting', 'task.overdue', 'task.overdue', 'task.overdue']);
    await a.close();
    await b.close();
  });

  it('a handler removed during delivery leaves the rest of its notices unacknowledged, for a process that handles them', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const a = await boot(storage, clock);
    const b = await boot(storage, clock);
    const gotA: string[] = [];
    const off = a.on('task.due', (e) => {
      gotA.push(e.data.key);
      off(); // the process stops handling due notices after the first
    });
    await a.scheduler.tick();
    await noticesAhead(a, clock, 4);
    clock.advance(20 * 60_000);
    expect((await a.scheduler.tick()).delivered).toBe(1);
    const gotB = listen(b, ['task.due']);
    expect((await b.scheduler.tick()).delivered).toBe(3);
    expect(new Set([...gotA, ...gotB.map((k) => k.split(' ')[1])]).size).toBe(4);
    const status = await a.events.status('crmkit.scheduler.notices:task.due');
    expect([status.handled, status.failures, status.lag]).toEqual([4, 0, 0]);
    await a.close();
    await b.close();
  });

  it('the single notice consumer of earlier versions hands over what it had not delivered, and is removed', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const old = await boot(storage, clock);
    await old.scheduler.tick();
    await noticesAhead(old, clock, 4);
    clock.advance(20 * 60_000);
    await old.scheduler.tick(); // 4 reminders and 4 due notices recorded, nobody handles them
    await old.close();
    const notices = (storage.snapshot().event?.t ?? []).filter((e) => (TYPES as readonly string[]).includes(e.type as string)).sort((x, y) => (x.position as number) - (y.position as number));
    expect(notices).toHaveLength(8);
    // Turn the store into one of an earlier version: one consumer for every type, its checkpoint past the
    // first 6 notices, the 2nd of them waiting for a retry in its backlog.
    const checkpoint = notices[5]!.position as number;
    await storage.transaction('rw', async (tx) => {
      const rows = (storage.snapshot().consumer?.t ?? []) as { id: string }[];
      await tx.write('consumer', 't', rows.map((r) => ({ type: 'delete' as const, id: r.id })));
      const now = new Date(clock.now()).toISOString();
      await tx.write('consumer', 't', [{ type: 'insert', row: { id: 'crmkit.scheduler.notices#0', tenantId: 't', version: 1, createdAt: now, updatedAt: now, name: 'crmkit.scheduler.notices', group: 'scheduler', partition: 0, partitions: 1, position: checkpoint, types: [...TYPES], paused: false, turn: 0, handled: 5, failures: 1, parkedTotal: 0 } }]);
      const retry = notices[1]!;
      await tx.write('consumerBacklog', 't', [{ type: 'insert', row: { id: `crmkit.scheduler.notices#${retry.id as string}`, tenantId: 't', version: 1, createdAt: now, updatedAt: now, consumer: 'crmkit.scheduler.notices', partition: 0, subjectId: retry.subjectId, eventId: retry.id, position: retry.position, status: 'pending', attempts: 1, nextAttemptAt: now, event: retry } }]);
    });
    const upgraded = await boot(storage, clock);
    const got = listen(upgraded, ['*']);
    await upgraded.scheduler.tick();
    // The retry (carried over from its backlog) and notices 7–8: nothing the old consumer had delivered comes again.
    expect(got.sort()).toEqual([notices[1]!, notices[6]!, notices[7]!].map((e) => `${e.type as string} ${(e.data as { key: string }).key}`).sort());
    const names = new Set((storage.snapshot().consumer?.t ?? []).map((r) => r.name as string));
    expect([...names].sort()).toEqual(TYPES.map((t) => `crmkit.scheduler.notices:${t}`).sort());
    expect((storage.snapshot().consumerBacklog?.t ?? []).length).toBe(0);
    await upgraded.close();
  });
});
