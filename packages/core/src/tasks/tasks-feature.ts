import type { CrmFeature } from '../crm/feature.js';
import { CalendarService } from './calendar-service.js';
import { calendarCache } from './calendar-cache.js';
import { taskHooks } from './task-hooks.js';
import { TaskService } from './task-service.js';
import { backfillTaskDeadlines } from './task-writer.js';
import { resyncs } from '../storage/storage-adapter.js';

/** The tasks feature: adds `crm.tasks` and `crm.calendar`. */
export type TasksFeature = CrmFeature<'tasks', TaskService, { readonly calendar: CalendarService }>;

/**
 * Tasks as a crm feature: `crm.tasks` (planned calls, meetings, e-mails and to-dos with reminders,
 * chaining, the agenda and workload) and `crm.calendar` (the tenant's business calendar). In the
 * funnel it creates stage template tasks when a deal enters a stage, takes the `nextStep` of deals
 * and moves, moves the next-step task when a deal is postponed (or creates a follow-up), cancels a
 * lost deal's open tasks, and enables strict next-step pipelines. Without it, those inputs are
 * refused with `VALIDATION` (`feature_required`) and a postponement is recorded on the deal only.
 * Recurring tasks also need `scheduler()`.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { tasks } from '@crmkit/core/tasks';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [tasks()] });
 * await crm.tasks.create({ subject: 'Call Ada', type: 'call', dueAt: '2026-03-03T10:00:00Z' });
 */
export function tasks(): TasksFeature {
  return {
    key: 'tasks',
    setup(ctx) {
      const cache = calendarCache(ctx);
      // Other processes and tabs change the calendar too: drop the cache on any settings change.
      const stop = ctx.storage.onChange((batch) => (resyncs(batch, ctx.tenantId) || batch.changes.some((c) => c.entity === 'setting')) && cache.invalidate());
      return {
        api: (view) => new TaskService(view),
        also: { calendar: (view) => new CalendarService(view) },
        hooks: { tasks: taskHooks },
        // Open tasks stored before `deadlineAt` existed get it, so overdue queries see them.
        async start() {
          const backfilled = await backfillTaskDeadlines(ctx);
          if (backfilled > 0) ctx.logger.info('crmkit: gave stored open tasks their deadlineAt', { tasks: backfilled });
        },
        close: async () => stop(),
      };
    },
  };
}
