import type { CrmFeature } from '../crm/feature.js';
import { rruleRecurrence } from './recurrence.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

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
 * @param options Overdue grace, batch size, longest sleep.
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { scheduler } from '@crmkit/core/scheduler';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [tasks(), scheduler({ batchSize: 200 })] });
 * crm.scheduler.start();
 */
export function scheduler(options: SchedulerOptions = {}): SchedulerFeature {
  return {
    key: 'scheduler',
    requires: ['tasks'],
    setup(ctx) {
      const instance = new Scheduler(ctx, options);
      return { api: () => instance, hooks: { recurrence: rruleRecurrence }, close: () => instance.stop() };
    },
  };
}
