// Entry point of @crmkit/core/scheduler: reminders, due/overdue notices, recurring tasks and rotting checks as an opt-in crm feature.
export { scheduler, type SchedulerFeature } from './scheduler-feature.js';
export type { Scheduler, SchedulerOptions, TickReport, NotificationRecord } from './scheduler.js';
export { taskNotices, pendingNotices, nextNoticeAt, type TaskNotice, type NoticeSettings } from '../domain/tasks/notices.js';
export { parseRecurrence, occurrences, occurrenceAfter, type RecurrenceRule, type ByDay, type OccurrenceOptions } from '../domain/tasks/rrule.js';
