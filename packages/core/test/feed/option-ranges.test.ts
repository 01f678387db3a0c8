import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createTestCrm } from '@crmkit/core/testing';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { MAX_HOLD_MS } from '../../src/consumers/consumer-options.js';
import { expectCrmError, issuePaths } from '../helpers.js';

const DAY = 86_400_000;
const noop = () => undefined;

/** Runs a call; anything it throws must be a CrmError (a RangeError from date arithmetic is a bug). */
async function settle(label: string, call: () => unknown): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    if (!isCrmError(error)) throw new Error(`${label} threw a non-CrmError: ${String(error)}`, { cause: error });
    return error;
  }
}

/** An option accepted or refused: refused only with VALIDATION; accepted ones are then exercised. */
async function accepted<T>(label: string, make: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await make();
  } catch (error) {
    if (!isCrmError(error, 'VALIDATION')) throw new Error(`${label} threw ${String(error)} instead of VALIDATION`, { cause: error });
    return undefined;
  }
}

/** Integers of a range, with its ends often. */
const int = (min: number, max: number) => fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
const multiplier = (max: number) => fc.oneof(fc.constantFrom(1, max), fc.double({ min: 1, max, noNaN: true }));
const backoff = (maxInitial: number, maxMax: number) => fc.record({ initialMs: int(1, maxInitial), multiplier: multiplier(100), maxMs: int(1, maxMax) }, { requiredKeys: [] });

describe('feed consumers: holdMs stays in the range of dates', () => {
  it('a hold above 36 500 days is refused (path holdMs); one of 36 500 days is accepted and prune works', async () => {
    const { crm } = await createTestCrm({ features: [events()] });
    await crm.contacts.create({ name: 'A' });
    await (await crm.events.consume('other', noop, { start: false })).drain();
    for (const holdMs of [MAX_HOLD_MS + 1, Number.MAX_SAFE_INTEGER]) {
      const error = await expectCrmError(crm.events.consume('hold', noop, { start: false, holdMs }), 'VALIDATION');
      expect(issuePaths(error)).toEqual(['holdMs']);
    }
    await crm.events.consume('hold', noop, { start: false, holdMs: MAX_HOLD_MS });
    expect(await crm.events.prune()).toEqual({ deleted: 0, through: 0 });
    await crm.close();
  });

  it('a consumer stored with a larger hold (before the cap) holds everything, and prune does not throw', async () => {
    const { crm, storage, clock } = await createTestCrm({ features: [events()] });
    await crm.contacts.create({ name: 'A' });
    await (await crm.events.consume('other', noop, { start: false })).drain();
    await crm.events.consume('hold', noop, { start: false, holdMs: DAY, partitions: 1 });
    // As an earlier crmkit stored it.
    await storage.transaction('rw', async (tx) => {
      const { rows } = await tx.query('consumer', 'test', { filter: { op: 'eq', field: 'name', value: 'hold' } });
      await tx.write('consumer', 'test', rows.map((row) => ({ type: 'update' as const, row: { ...row, holdMs: Number.MAX_SAFE_INTEGER, version: row.version + 1 }, expectedVersion: row.version })));
    });
    clock.advance(10 * DAY);
    expect(await crm.events.prune()).toEqual({ deleted: 0, through: 0 });
    expect((await crm.events.status('hold')).expired).toBe(0);
    await crm.close();
  });
});

describe('every accepted option keeps later calls to CrmErrors (property)', { timeout: 300_000 }, () => {
  it('feed consumers', async () => {
    const options = fc.record(
      {
        partitions: fc.constantFrom(1, 2, 256),
        holdMs: fc.oneof(int(1, MAX_HOLD_MS), int(1, Number.MAX_SAFE_INTEGER)),
        batchSize: int(1, 1000),
        leaseMs: int(100, 3_600_000),
        handlerTimeoutMs: int(1, 3_600_000),
        maxAttempts: int(1, 100),
        backoff: backoff(86_400_000, 7 * DAY),
        pollMs: int(1, 3_600_000),
        concurrency: int(1, 64),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(options, fc.integer({ min: 0, max: 400 * DAY }), async (opts, later) => {
        const { crm, clock } = await createTestCrm({ features: [events()] });
        try {
          await crm.contacts.create({ name: 'A' });
          await (await crm.events.consume('other', noop, { start: false })).drain();
          const consumer = await accepted('consume', () => crm.events.consume('c', (_, { attempt }) => {
            if (attempt === 1) throw new Error('fails once');
          }, { ...opts, start: false }));
          if (!consumer) return;
          // Behind the other consumer: a prune weighs its hold.
          clock.advance(later);
          await settle('prune', () => crm.events.prune());
          await settle('drain', () => consumer.drain());
          clock.advance(later);
          await crm.contacts.create({ name: 'B' });
          await settle('drain', () => consumer.drain());
          await settle('status', () => consumer.status());
          await settle('parked', () => crm.events.parked('c'));
          await settle('consumers', () => crm.events.consumers());
          await settle('prune', () => crm.events.prune());
          clock.advance(later);
          await settle('prune', () => crm.events.prune());
          await settle('stop', () => consumer.stop());
          await settle('remove', () => crm.events.remove('c'));
        } finally {
          await crm.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('webhooks', async () => {
    const options = fc.record(
      {
        timeoutMs: int(1, 300_000),
        maxAttempts: int(1, 100),
        backoff: backoff(86_400_000, 7 * DAY),
        disableAfter: fc.record({ failures: int(1, 100_000), ms: int(0, 365 * DAY) }, { requiredKeys: [] }),
        partitions: fc.constantFrom(1, 2, 256),
        concurrency: int(1, 64),
        leaseMs: int(100, 3_600_000),
        pollMs: int(1, 3_600_000),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(options, int(0, 30 * DAY), fc.integer({ min: 0, max: 400 * DAY }), async (opts, keep, later) => {
        let calls = 0;
        const fetch: WebhookFetch = async () => ({ status: calls++ === 0 ? 500 : 204, text: async () => '' });
        const feature = await accepted('webhooks', () => webhooks({ ...opts, fetch }));
        if (!feature) return;
        const { crm, clock } = await createTestCrm({ features: [events(), feature] });
        try {
          const endpoint = await crm.webhooks.create({ url: 'https://example.com/hooks' });
          await crm.contacts.create({ name: 'A' });
          await settle('drain', () => crm.webhooks.drain());
          clock.advance(later);
          await settle('drain', () => crm.webhooks.drain());
          await settle('status', () => crm.webhooks.status(endpoint.id));
          const log = (await crm.webhooks.deliveries(endpoint.id)).items;
          await settle('rotateSecret', () => crm.webhooks.rotateSecret(endpoint.id, { keepPreviousForMs: keep }));
          if (log[0]) await settle('replay', () => crm.webhooks.replay(endpoint.id, log[0]!.eventId));
          clock.advance(later);
          await settle('drain', () => crm.webhooks.drain());
          await settle('pruneDeliveries', () => crm.webhooks.pruneDeliveries({ before: new Date(clock.now()).toISOString() }));
          await settle('prune', () => crm.events.prune());
          await settle('remove', () => crm.webhooks.remove(endpoint.id));
        } finally {
          await crm.close();
        }
      }),
      { numRuns: 30 },
    );
  });

  it('the scheduler', async () => {
    const options = fc.record(
      {
        overdueAfterMinutes: int(0, 525_600),
        batchSize: int(1, 10_000),
        maxSleepMs: int(1, 2_147_483_647),
        leaseMs: int(100, 3_600_000),
        noticeRetentionDays: int(1, 36_500),
        noticeTimeoutMs: int(1, 3_600_000),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(options, fc.integer({ min: 0, max: 400 * DAY }), async (opts, later) => {
        const feature = await accepted('scheduler', () => scheduler(opts));
        if (!feature) return;
        const { crm, clock } = await createTestCrm({ features: [tasks(), feature, events()] });
        try {
          let calls = 0;
          crm.on('task.due', () => {
            if (calls++ === 0) throw new Error('fails once');
          });
          await crm.tasks.create({ subject: 'Call', dueAt: new Date(clock.now() + 60_000).toISOString(), reminders: [30] });
          await settle('tick', () => crm.scheduler.tick());
          clock.advance(later);
          await settle('tick', () => crm.scheduler.tick());
          await settle('prune', () => crm.events.prune());
          crm.scheduler.start();
          clock.advance(Math.min(later, opts.maxSleepMs ?? 0));
          await settle('stop', () => crm.scheduler.stop());
          clock.advance(later);
          await settle('tick', () => crm.scheduler.tick());
        } finally {
          await crm.close();
        }
      }),
      { numRuns: 30 },
    );
  });

  it('automations: options, waits and rate limits', async () => {
    const options = fc.record(
      {
        maxDepth: int(0, 20),
        maxAttempts: int(1, 100),
        backoff: fc.record({ initialMs: int(0, 86_400_000), multiplier: multiplier(10), maxMs: int(0, 86_400_000) }, { requiredKeys: [] }),
        partitions: fc.constantFrom(1, 2, 256),
        leaseMs: int(100, 3_600_000),
        pollMs: int(10, 3_600_000),
        concurrency: int(1, 64),
        batchSize: int(1, 1000),
      },
      { requiredKeys: [] },
    );
    const duration = fc.record({ amount: int(1, 3650), unit: fc.constantFrom('minutes' as const, 'hours' as const, 'days' as const, 'businessDays' as const) });
    const rateLimit = fc.record({ max: int(1, 1_000_000), perMinutes: int(1, 10_080) });
    await fc.assert(
      fc.asyncProperty(options, duration, rateLimit, fc.integer({ min: 0, max: 4000 * DAY }), async (opts, wait, limit, later) => {
        const feature = await accepted('automations', () => automations(opts));
        if (!feature) return;
        const { crm, clock } = await createTestCrm({ features: [tasks(), scheduler(), events(), feature] });
        try {
          await crm.automations.define({ name: 'Tag later', trigger: { type: 'event', event: 'contact.created' }, actions: [{ type: 'wait', for: wait }, { type: 'addTag', tag: 'x' }], rateLimit: limit });
          await crm.contacts.create({ name: 'A' });
          await settle('drain', () => crm.automations.drain());
          clock.advance(later);
          await settle('tick', () => crm.automations.tick());
          await settle('drain', () => crm.automations.drain());
          await settle('runs', () => crm.automations.runs());
          await settle('prune', () => crm.events.prune());
        } finally {
          await crm.close();
        }
      }),
      { numRuns: 30 },
    );
  });
});
