import type { TaskTemplate } from '../../schema/pipeline.js';
import { addBusinessDays, addCalendarDays, addWorkingMinutes, type BusinessCalendar } from '../calendar/business-calendar.js';

/**
 * When a template's task is due, counted from `fromMs`: minutes and hours are elapsed time;
 * days keep the local wall time (or set `at`) across DST; business days and working hours follow
 * the tenant's calendar.
 */
export function templateDueAt(due: TaskTemplate['due'], fromMs: number, calendar: BusinessCalendar): number {
  switch (due.unit) {
    case 'minutes':
      return fromMs + due.amount * 60_000;
    case 'hours':
      return fromMs + due.amount * 3_600_000;
    case 'days':
      return addCalendarDays(calendar, fromMs, due.amount, due.at);
    case 'businessDays':
      return addBusinessDays(calendar, fromMs, due.amount, due.at);
    case 'workingHours':
      return addWorkingMinutes(calendar, fromMs, due.amount * 60);
  }
}
