import { expect } from 'vitest';
import { createCrm, silentLogger, type CrmEvent, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock, type FakeClock } from '@crmkit/core/testing';

/**
 * An upgrade from the single notice consumer of earlier versions (`crmkit.scheduler.notices`) with a
 * backlog row (a notice waiting for a retry, or parked), optionally after the feed was pruned up to its
 * checkpoint (as the docs tell hosts to): the upgraded scheduler ticks, carries the backlog row over to
 * the per-type consumer with its event copy, and delivers only what the old consumer had not.
 * Shared by the memory test and the SQLite/PostgreSQL one.
 */

const LEGACY = 'crmkit.scheduler.notices';
const TYPES = ['task.reminder', 'task.due', 'task.overdue', 'deal.rotting'];
const boot = (storage: StorageAdapter, clock: FakeClock) =>
  createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [tasks(), events(), scheduler({ overdueAfterMinutes: 30 })] });
const keyOf = (e: CrmEvent) => `${e.type} ${(e.data as { key: string }).key}`;

export async function upgradeFromLegacyConsumer(storage: () => StorageAdapter, status: 'pending' | 'parked', prune: boolean): Promise<void> {
  const clock = createFakeClock('2026-03-02T08:00:00.000Z');
  const old = await boot(storage(), clock);
  await old.scheduler.tick();
  for (let i = 0; i < 4; i++) await old.tasks.create({ subject: `T${i}`, dueAt: new Date(clock.now() + (10 + i) * 60_000).toISOString(), reminders: [5] });
  clock.advance(20 * 60_000);
  await old.scheduler.tick(); // 4 reminders and 4 due notices recorded, nobody handles them
  const notices = (await old.events.read({ after: 0, limit: 1000, types: TYPES })).events;
  await old.close();
  expect(notices).toHaveLength(8);
  // The store of an earlier version: one consumer for every type, its checkpoint past the first 6
  // notices, the 2nd of them in its backlog (with its event copy), waiting for a retry or parked.
  const checkpoint = notices[5]!.position!;
  const waiting = notices[1]!;
  const now = new Date(clock.now()).toISOString();
  const db = storage();
  await db.transaction('rw', async (tx) => {
    const ids = TYPES.flatMap((t) => [0, 1, 2, 3].map((p) => `${LEGACY}:${t}#${p}`));
    await tx.write('consumer', 't', ids.map((id) => ({ type: 'delete' as const, id })));
    await tx.write('consumer', 't', [{ type: 'insert', row: { id: `${LEGACY}#0`, tenantId: 't', version: 1, createdAt: now, updatedAt: now, name: LEGACY, group: 'scheduler', partition: 0, partitions: 1, position: checkpoint, types: TYPES, paused: false, turn: 0, handled: 5, failures: 1, parkedTotal: status === 'parked' ? 1 : 0 } }]);
    const row = { id: `${LEGACY}#${waiting.id}`, tenantId: 't', version: 1, createdAt: now, updatedAt: now, consumer: LEGACY, partition: 0, subjectId: waiting.subjectId, eventId: waiting.id, position: waiting.position, status, attempts: status === 'parked' ? 3 : 1, nextAttemptAt: now, event: waiting, ...(status === 'parked' ? { parkedAt: now, lastError: { message: 'boom', at: now, eventId: waiting.id } } : {}) };
    await tx.write('consumerBacklog', 't', [{ type: 'insert', row: row as never }]);
  });
  if (prune) {
    const pruner = await createCrm({ storage: storage(), clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [events()] });
    expect((await pruner.events.prune()).through).toBe(checkpoint);
    expect((await pruner.events.read({ after: 0 })).prunedThrough).toBe(checkpoint);
    await pruner.close();
  }

  const upgraded = await boot(storage(), clock);
  const got: string[] = [];
  upgraded.on('*', (e) => void got.push(keyOf(e)));
  await upgraded.scheduler.tick();
  // Only what the old consumer had not delivered: the waiting notice (unless parked) and notices 7–8.
  const expected = [...(status === 'pending' ? [waiting] : []), notices[6]!, notices[7]!].map(keyOf);
  expect(got.sort()).toEqual(expected.sort());
  const consumer = `${LEGACY}:${waiting.type}`;
  const parked = await upgraded.events.parked(consumer);
  if (status === 'parked') {
    // Kept with its event copy (the feed may have lost it), its attempts and its error.
    expect(parked.items.map((p) => [keyOf(p.event), p.attempts, p.lastError?.message])).toEqual([[keyOf(waiting), 3, 'boom']]);
  } else expect(parked.items).toEqual([]);
  expect((await upgraded.events.consumers()).map((c) => c.name).sort()).toEqual(TYPES.map((t) => `${LEGACY}:${t}`).sort());
  // Later ticks work too.
  await upgraded.tasks.create({ subject: 'later', dueAt: new Date(clock.now() + 60_000).toISOString() });
  clock.advance(120_000);
  expect((await upgraded.scheduler.tick()).delivered).toBe(1);
  expect(got.filter((k) => k.startsWith('task.due')).length).toBe(expected.filter((k) => k.startsWith('task.due')).length + 1);
  await upgraded.close();
}

/**
 * An upgrade from a legacy consumer with two partitions, one behind (checkpoint at the 1st notice) and
 * one at the 4th notice, which it parked: the per-type consumers start at the slowest checkpoint, so
 * the feed is read again over the parked notice. It stays parked — not handed to handlers, listed once
 * — until a replay, which delivers it exactly once, even when the replay comes before the checkpoint
 * reaches it (`replayFirst`: no handler at the hand-over tick, a batch of one notice per pass). Discarded
 * there instead (`discard`), it is never delivered, listed nowhere, and its marker is gone once the
 * checkpoint passes it.
 */
export async function upgradeWithParkedAboveSlowest(storage: () => StorageAdapter, replayFirst: boolean, discard = false): Promise<void> {
  const clock = createFakeClock('2026-03-02T08:00:00.000Z');
  const boot = (batchSize: number) =>
    createCrm({ storage: storage(), clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [tasks(), events(), scheduler({ overdueAfterMinutes: 30, batchSize })] });
  const old = await boot(100);
  await old.scheduler.tick();
  for (let i = 0; i < 12; i++) await old.tasks.create({ subject: `T${i}`, dueAt: new Date(clock.now() + (10 + i) * 60_000).toISOString() });
  clock.advance(30 * 60_000);
  await old.scheduler.tick(); // 12 due notices recorded, nobody handles them
  const notices = (await old.events.read({ after: 0, limit: 1000, types: TYPES })).events;
  await old.close();
  expect(notices).toHaveLength(12);
  // The parked notice has an earlier notice (after the slowest checkpoint) in its partition: a pass of one
  // notice does not reach it at once.
  const partition = (e: CrmEvent) => (e.shard ?? 0) % 4;
  const parkedOne = notices.filter((e, i) => i > 1 && notices.slice(1, i).some((o) => partition(o) === partition(e))).at(-1)!;
  const now = new Date(clock.now()).toISOString();
  await storage().transaction('rw', async (tx) => {
    const ids = TYPES.flatMap((t) => [0, 1, 2, 3].map((p) => `${LEGACY}:${t}#${p}`));
    await tx.write('consumer', 't', ids.map((id) => ({ type: 'delete' as const, id })));
    const part = (p: number, position: number) => ({ id: `${LEGACY}#${p}`, tenantId: 't', version: 1, createdAt: now, updatedAt: now, name: LEGACY, group: 'scheduler', partition: p, partitions: 2, position, types: TYPES, paused: false, turn: 0, handled: 0, failures: 0, parkedTotal: 0 });
    await tx.write('consumer', 't', [{ type: 'insert', row: part(0, notices[0]!.position!) as never }, { type: 'insert', row: part(1, parkedOne.position!) as never }]);
    const row = { id: `${LEGACY}#${parkedOne.id}`, tenantId: 't', version: 1, createdAt: now, updatedAt: now, consumer: LEGACY, partition: 1, subjectId: parkedOne.subjectId, eventId: parkedOne.id, position: parkedOne.position, status: 'parked', attempts: 3, nextAttemptAt: now, parkedAt: now, lastError: { message: 'boom', at: now, eventId: parkedOne.id }, event: parkedOne };
    await tx.write('consumerBacklog', 't', [{ type: 'insert', row: row as never }]);
  });

  const upgraded = await boot(replayFirst ? 1 : 100);
  const consumer = `${LEGACY}:task.due`;
  const got: string[] = [];
  const listen = () => upgraded.on('*', (e) => void got.push(keyOf(e)));
  if (!replayFirst) {
    listen();
    await upgraded.scheduler.tick();
    await upgraded.scheduler.tick();
    // The notices after the slowest checkpoint go out again (handlers dedupe by key); the parked one does not.
    expect(got.sort()).toEqual(notices.slice(1).filter((e) => e !== parkedOne).map(keyOf).sort());
    expect((await upgraded.events.parked(consumer)).items.map((p) => keyOf(p.event))).toEqual([keyOf(parkedOne)]);
    expect((await upgraded.events.status(consumer)).parked).toBe(1);
    await upgraded.events.replay(consumer, [parkedOne.id]);
  } else {
    await upgraded.scheduler.tick(); // hands over; no handler here, so nothing is read
    if (discard) {
      expect(await upgraded.events.discard(consumer, [parkedOne.id])).toBe(1); // ahead of the checkpoint
      expect((await upgraded.events.parked(consumer)).items).toEqual([]);
      expect(await upgraded.events.status(consumer)).toMatchObject({ parked: 0, pending: 0 });
      await expect(upgraded.events.discard(consumer, [parkedOne.id])).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(upgraded.events.replay(consumer, [parkedOne.id])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } else await upgraded.events.replay(consumer, [parkedOne.id]); // pending now, ahead of the checkpoint
    listen();
  }
  for (let i = 0; i < 3; i++) await upgraded.scheduler.tick();
  expect(got.filter((k) => k === keyOf(parkedOne))).toEqual(discard ? [] : [keyOf(parkedOne)]);
  // Nothing is left behind: the discarded marker went when the checkpoint passed it.
  expect(await storage().transaction('r', (tx) => tx.getMany('consumerBacklog', 't', [`${consumer}#${parkedOne.id}`]))).toEqual([undefined]);
  expect((await upgraded.events.parked(consumer)).items).toEqual([]);
  expect(await upgraded.events.status(consumer)).toMatchObject({ parked: 0, pending: 0, lag: 0 });
  await upgraded.close();
}
