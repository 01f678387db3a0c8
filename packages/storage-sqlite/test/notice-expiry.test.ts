import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, type CrmEvent, type Logger, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock, type FakeClock } from '@crmkit/core/testing';
import { fleetEngines } from './support/fleet.js';

/**
 * Notices of a type nobody in the fleet handles do not pin `crm.events.prune`: their consumer holds
 * them for the notice retention only (`holdMs`), then they expire — counted in `status().expired` —
 * while younger ones wait for a handler. App consumers still hold everything.
 */

const TYPES = ['task.reminder', 'task.due', 'task.overdue', 'deal.rotting'] as const;
const HOUR = 3_600_000;

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'expiry');
afterAll(() => end());
const memory = { name: 'memory' as const, make: async () => ({ storage: () => createMemoryStorage() }) };

const boot = async (storage: StorageAdapter, clock: FakeClock, logger: Logger = silentLogger) => {
  const crm = await createCrm({ storage, clock, tenantId: 't', logger, features: [tasks(), events(), scheduler({ overdueAfterMinutes: 30, noticeRetentionDays: 1 })] });
  cleanups.push(() => crm.close());
  return crm;
};
type Process = Awaited<ReturnType<typeof boot>>;

async function noticesAhead(crm: Process, clock: FakeClock, count: number): Promise<void> {
  const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', rottenDays: 1 }] });
  for (let i = 0; i < count; i++) {
    await crm.tasks.create({ subject: `T${i}`, dueAt: new Date(clock.now() + (10 + i) * 60_000).toISOString(), reminders: [5] });
    await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id });
  }
}

/** Notice events still in the feed, by type. */
async function stored(crm: Process): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let after = 0; ; ) {
    const page = await crm.events.read({ after, limit: 500, types: [...TYPES] });
    for (const e of page.events) out[e.type] = (out[e.type] ?? 0) + 1;
    if (!page.hasMore) return out;
    after = page.position;
  }
}

const statusOf = async (crm: Process, type: string) => {
  const s = await crm.events.status(`crmkit.scheduler.notices:${type}`);
  return { expired: s.expired, handled: s.handled, lag: s.lag };
};

describe.each([memory, ...engines])('notice expiry on $name', { timeout: 120_000 }, (engine) => {
  it('prune passes unhandled notices once older than the retention, never young ones; a handler registered later gets the young ones', async () => {
    const db = await engine.make();
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const warnings: { message: string; data?: Record<string, unknown> }[] = [];
    // Only the expiry warnings: on PostgreSQL the fake clock also (rightly) disagrees with the database clock.
    const warn = (message: string, data?: Record<string, unknown>) => void (message.includes('expired') && warnings.push({ message, ...(data ? { data } : {}) }));
    const crm = await boot(db.storage(), clock, { ...silentLogger, warn });
    const due: string[] = [];
    crm.on('task.due', (e: CrmEvent) => void due.push(e.subjectId)); // the fleet handles task.due only
    await crm.scheduler.tick();
    await noticesAhead(crm, clock, 3);
    clock.advance(HOUR);
    await crm.scheduler.tick();
    expect(due).toHaveLength(3);
    expect(await stored(crm)).toEqual({ 'task.reminder': 3, 'task.due': 3, 'task.overdue': 3 });

    // Young unhandled notices hold the prune: everything before the first of them goes, they stay.
    const firstYoung = (await crm.events.read({ types: ['task.reminder', 'task.overdue'], limit: 1 })).events[0]!.position!;
    const young = await crm.events.prune();
    expect(young.through).toBe(firstYoung - 1);
    expect(young.deleted).toBeGreaterThan(0);
    expect(await stored(crm)).toEqual({ 'task.reminder': 3, 'task.due': 3, 'task.overdue': 3 });
    for (const type of TYPES) expect((await statusOf(crm, type)).expired).toBe(0);
    expect(warnings).toEqual([]);

    // Two days on: the rotting notices are new (young), reminders and overdue notices are past the retention.
    clock.advance(48 * HOUR);
    await crm.scheduler.tick();
    expect((await stored(crm))['deal.rotting']).toBe(3);
    const old = await crm.events.prune();
    expect(await stored(crm)).toEqual({ 'deal.rotting': 3 });
    expect(old.through).toBe((await crm.events.read({ types: ['deal.rotting'], limit: 1 })).events[0]!.position! - 1);
    expect(await statusOf(crm, 'task.reminder')).toEqual({ expired: 3, handled: 0, lag: 0 });
    expect(await statusOf(crm, 'task.overdue')).toEqual({ expired: 3, handled: 0, lag: 0 });
    expect(await statusOf(crm, 'deal.rotting')).toEqual({ expired: 0, handled: 0, lag: 3 });
    expect(await statusOf(crm, 'task.due')).toEqual({ expired: 0, handled: 3, lag: 0 });
    // Logged once per consumer that lost notices.
    expect(warnings.map((w) => [w.data?.consumer, w.data?.expired]).sort()).toEqual([
      ['crmkit.scheduler.notices:task.overdue', 3],
      ['crmkit.scheduler.notices:task.reminder', 3],
    ]);

    // A rotting handler registered later gets the young backlog; prune then has nothing held.
    const rotting: string[] = [];
    crm.on('deal.rotting', (e: CrmEvent) => void rotting.push(e.subjectId));
    expect((await crm.scheduler.tick()).delivered).toBe(3);
    expect(rotting).toHaveLength(3);
    await crm.events.prune();
    expect(await stored(crm)).toEqual({});
    expect((await crm.events.read()).prunedThrough).toBe(await crm.events.head());
    expect(await statusOf(crm, 'deal.rotting')).toEqual({ expired: 0, handled: 3, lag: 0 });
  });

  it('a fleet that handles no notice at all: old notices expire; an app consumer still holds the prune', async () => {
    const db = await engine.make();
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const crm = await boot(db.storage(), clock);
    await crm.scheduler.tick();
    await noticesAhead(crm, clock, 2);
    clock.advance(HOUR);
    await crm.scheduler.tick();
    clock.advance(48 * HOUR);
    await crm.scheduler.tick(); // rotting notices: young
    const before = await stored(crm);
    expect(before).toEqual({ 'task.reminder': 2, 'task.due': 2, 'task.overdue': 2, 'deal.rotting': 2 });
    // A slow app consumer (never run) at position 0 holds everything, however old.
    const slow = await crm.events.consume('slow', () => undefined, { start: false });
    expect(await crm.events.prune()).toEqual({ deleted: 0, through: 0 });
    expect(await stored(crm)).toEqual(before);
    for (const type of TYPES) expect((await statusOf(crm, type)).expired).toBe(0);
    await slow.drain();
    await crm.events.prune();
    expect(await stored(crm)).toEqual({ 'deal.rotting': 2 });
    for (const type of ['task.reminder', 'task.due', 'task.overdue']) expect((await statusOf(crm, type)).expired).toBe(2);
    expect((await crm.events.status('slow')).expired).toBe(0);
    await slow.stop();
  });
});
