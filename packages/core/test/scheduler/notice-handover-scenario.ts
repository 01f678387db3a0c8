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
