import type { CrmFeature } from '../crm/feature.js';
import { rruleRecurrence } from './recurrence.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';

const LIMITS: Readonly<Record<keyof SchedulerOptions, [number, number]>> = {
  overdueAfterMinutes: [0, 60 * 24 * 365],
  batchSize: [1, 10_000],
  maxSleepMs: [1000, 24 * 3_600_000],
};

/** Unknown options and out-of-range values are refused, never ignored (a zero batch size would never progress). */
function checkSchedulerOptions(options: unknown): void {
  const issues: ValidationIssue[] = [];
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw validationError('scheduler', [{ path: [], code: 'invalid_type', message: 'must be an options object' }]);
  for (const [key, value] of Object.entries(options)) {
    const range = LIMITS[key as keyof SchedulerOptions];
    if (!range) issues.push({ path: [key], code: 'unknown_field', message: `unknown option "${key.slice(0, 50)}" (known: ${Object.keys(LIMITS).join(', ')})` });
    else if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1])) {
      issues.push({ path: [key], code: 'invalid_value', message: `must be an integer from ${range[0]} to ${range[1]}` });
    }
  }
  if (issues.length) throw validationError('scheduler', issues);
}

/** The scheduler feature: adds `crm.scheduler` and recurring tasks. */
export type SchedulerFeature = CrmFeature<'scheduler', Scheduler>;

/**
 * Reminders, due and overdue notices, recurring tasks and rotting checks as a crm feature. It adds
 * `crm.scheduler` (`tick()`, `start()`, `stop()`) and recurring tasks (RFC 5545 RRULE subset):
 * without it, creating a task with `recurrence` fails with `VALIDATION` (issue `feature_required`)
 * and completing or cancelling an occurrence of a stored series with `RULE_VIOLATION`
 * (`recurrence.featureMissing`). Installing it starts nothing: call `crm.scheduler.start()` in the
 * one process that should run timers, or `tick()` from your own job runner. `crm.close()` stops it.
 *
 * @param options Overdue grace, batch size, longest sleep.
 * @returns The feature to pass to `createCrm({ features })`.
 * @throws CrmError `VALIDATION` (synchronously) for an unknown option or a value out of range (a zero batch size).
 * @example
 * import { scheduler } from '@crmkit/core/scheduler';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [scheduler({ batchSize: 200 })] });
 * crm.scheduler.start();
 */
export function scheduler(options: SchedulerOptions = {}): SchedulerFeature {
  checkSchedulerOptions(options);
  return {
    key: 'scheduler',
    setup(ctx) {
      const instance = new Scheduler(ctx, options);
      return { api: () => instance, hooks: { recurrence: rruleRecurrence }, close: () => instance.stop() };
    },
  };
}
