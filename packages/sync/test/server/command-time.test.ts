import { createMemoryStorage } from '@crmkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_AGE_MS } from '../../src/protocol/commands.js';
import { device, post, serverOf } from './support.js';

const DAY = 86_400_000;
const SERVER_NOW = Date.parse('2026-01-05T09:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** Pushes one `activities.log` without `occurredAt` at device time `at`: the activity takes the command's business time. */
async function logAt(server: Awaited<ReturnType<typeof serverOf>>, anna: ReturnType<typeof device>, at: number): Promise<string> {
  const id = anna.id('act');
  const answer = await post(server.server, 'push', anna.push([anna.command('activities.log', [{ id, kind: 'call', direction: 'outbound' }], at)]));
  expect(answer.body.results).toEqual([expect.objectContaining({ status: 'applied' })]);
  return (await server.crm.activities.get(id)).occurredAt;
}

describe('sync push: a command runs at the time the user ran it, clamped (review13 R7)', () => {
  it('a device cannot date work more than maxCommandAgeMs back, nor in the future, nor before its previous command', async () => {
    const server = await serverOf(() => createMemoryStorage());
    const anna = device(41);
    expect(await logAt(server, anna, SERVER_NOW - 30 * DAY)).toBe(iso(SERVER_NOW - MAX_COMMAND_AGE_MS));
    expect(await logAt(server, anna, SERVER_NOW - DAY)).toBe(iso(SERVER_NOW - DAY));
    expect(await logAt(server, anna, SERVER_NOW - 2 * DAY)).toBe(iso(SERVER_NOW - DAY));
    expect(await logAt(server, anna, SERVER_NOW + DAY)).toBe(iso(SERVER_NOW));
    // Another device of the same user has its own floor.
    expect(await logAt(server, device(42), SERVER_NOW - 2 * DAY)).toBe(iso(SERVER_NOW - 2 * DAY));
  });

  it('every timestamp and rule of the command follows: completedAt, updatedAt, the event time; the sync bookkeeping keeps the server clock', async () => {
    const server = await serverOf(() => createMemoryStorage());
    const task = await server.crm.tasks.create({ subject: 'Visit', dueAt: '2026-01-05T15:00:00.000Z' } as never);
    server.clock.advance(2 * DAY);
    const anna = device(43);
    const at = SERVER_NOW + 3_600_000;
    await post(server.server, 'push', anna.push([anna.command('tasks.complete', [task.id], at)]));
    const done = await server.crm.tasks.get(task.id);
    expect([done.completedAt, done.updatedAt]).toEqual([iso(at), iso(at)]);
    const [events, change] = await server.storage.transaction('r', async (tx) => [
      (await tx.query('event', 'acme', { filter: { op: 'eq', field: 'type', value: 'task.completed' } })).rows as unknown as { at: string }[],
      (await tx.getMany('syncChange', 'acme', [`task:${task.id}`]))[0] as unknown as { updatedAt: string },
    ] as const);
    expect(events.map((e) => e.at)).toEqual([iso(at)]);
    expect(change.updatedAt).toBe(iso(SERVER_NOW + 2 * DAY));
  });

  it('maxCommandAgeMs: 0 runs every command at the server\'s time; a bad value is refused', async () => {
    const server = await serverOf(() => createMemoryStorage(), { server: { maxCommandAgeMs: 0 } });
    expect(await logAt(server, device(44), SERVER_NOW - DAY)).toBe(iso(SERVER_NOW));
    for (const bad of [-1, Number.NaN, '1000']) {
      await expect(serverOf(() => createMemoryStorage(), { server: { maxCommandAgeMs: bad as number } })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['maxCommandAgeMs'] }] } });
    }
  });

  it('property: the business times of a device\'s commands never go back, never pass the server\'s now, never precede now − maxAge', async () => {
    const step = fc.record({ offset: fc.integer({ min: -20 * DAY, max: 2 * DAY }), wait: fc.integer({ min: 0, max: 3 * DAY }) });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 1000 }), async (steps, seed) => {
        const server = await serverOf(() => createMemoryStorage());
        const anna = device(seed);
        let previous = -Infinity;
        for (const { offset, wait } of steps) {
          server.clock.advance(wait);
          const now = server.clock.now();
          const dated = Date.parse(await logAt(server, anna, now + offset));
          expect(dated).toBeLessThanOrEqual(now);
          expect(dated).toBeGreaterThanOrEqual(now - MAX_COMMAND_AGE_MS);
          expect(dated).toBeGreaterThanOrEqual(previous);
          // Honest work (in the window, after the previous) keeps its device time exactly.
          if (offset <= 0 && now + offset >= now - MAX_COMMAND_AGE_MS && now + offset >= previous) expect(dated).toBe(now + offset);
          previous = dated;
        }
        await server.crm.close();
      }),
      { numRuns: 25 },
    );
  });
});
