import type { CrmFeature } from '../crm/feature.js';
import { rruleRecurrence } from './recurrence.js';
import * as z from 'zod/mini';
import { parseInput } from '../crm/parse-input.js';
import { LEASE_RESERVE_MS } from '../consumers/consumer-options.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

const schedulerOptionsSchema = z.optional(
  z.strictObject({
    overdueAfterMinutes: z.optional(z.number().check(z.int(), z.gte(0), z.lte(525_600))),
    batchSize: z.optional(z.number().check(z.int(), z.gte(1), z.lte(10_000))),
    // Timers cannot sleep longer than 2^31 - 1 ms.
    maxSleepMs: z.optional(z.number().check(z.int(), z.gte(1), z.lte(2_147_483_647))),
    // The notice consumer's lease: the bounds of every feed consumer.
    leaseMs: z.optional(z.number().check(z.int(), z.gte(100), z.lte(3_600_000))),
    noticeRetentionDays: z.optional(z.number().check(z.int(), z.gte(1), z.lte(36_500))),
    noticeTimeoutMs: z.optional(z.number().check(z.int(), z.gte(1), z.lte(3_600_000))),
  }).check(
    // As a feed consumer's handlerTimeoutMs: a pass must be able to call a handler within its lease.
    z.refine((o) => o.noticeTimeoutMs === undefined || o.noticeTimeoutMs <= (o.leaseMs ?? 30_000) - LEASE_RESERVE_MS, {
      message: `must be at least ${LEASE_RESERVE_MS} ms shorter than leaseMs`,
      path: ['noticeTimeoutMs'],
    }),
  ),
);

/** The scheduler feature: adds `crm.scheduler` and recurring tasks. */
export type SchedulerFeature = CrmFeature<'scheduler', Scheduler>;

/**
 * Reminders, due and overdue notices, recurring tasks and rotting checks as a crm feature; it needs
 * `tasks()` (`@crmkit/core/tasks`) in the same feature list. It adds
 * `crm.scheduler` (`tick()`, `start()`, `stop()`) and recurring tasks (RFC 5545 RRULE subset):
 * without it, creating a task with `recurrence` fails with `VALIDATION` (issue `feature_required`)
 * and completing or cancelling an occurrence of a stored series with `RULE_VIOLATION`
 * (`recurrence.featureMissing`). Installing it starts nothing: call `crm.scheduler.start()` in the
 * one process that should run timers, or `tick()` from your own job runner. `crm.close()` stops it.
 *
 * @param options Overdue grace (minutes, 0–525 600), batch size (records per transaction, 1–10 000),
 *   longest sleep (ms), notice lease (ms, 100–3 600 000), notice retention (days, 1–36 500, default 30:
 *   older notice rows are deleted by each tick), notice handler timeout (`noticeTimeoutMs`, ms, at
 *   least 50 ms below the lease; default the lesser of 10 s and a third of the lease). Checked and copied at once.
 * @returns The feature to pass to `createCrm({ features })`.
 * @throws CrmError `VALIDATION` for unknown or out-of-range options (`noticeTimeoutMs` not below `leaseMs`).
 * @example
 * import { scheduler } from '@crmkit/core/scheduler';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [tasks(), scheduler({ batchSize: 200 })] });
 * crm.scheduler.start();
 */
export function scheduler(options: SchedulerOptions = {}): SchedulerFeature {
  // Checked and copied now: the feature keeps no reference to the caller's object.
  const settings = parseInput(schedulerOptionsSchema, options, 'scheduler');
  return {
    key: 'scheduler',
    requires: ['tasks'],
    setup(ctx) {
      const instance = new Scheduler(ctx, settings);
      return { api: () => instance, hooks: { recurrence: rruleRecurrence }, close: () => instance.stop() };
    },
  };
}
