// Entry point of @crmkit/core/tasks: tasks, the agenda, the business calendar and the funnel's task rules as an opt-in crm feature.
export { tasks, type TasksFeature } from './tasks-feature.js';
export type { TaskService, CompleteTaskResult, Agenda, Workload } from './task-service.js';
export type { CalendarService } from './calendar-service.js';
export {
  addBusinessDays,
  addCalendarDays,
  addWorkingMinutes,
  businessDaysBetween,
  isWorkingDay,
  isWorkingTime,
  nextWorkingTime,
  DEFAULT_CALENDAR,
  type BusinessCalendar,
} from '../domain/calendar/business-calendar.js';
export { localIsoDate, startOfLocalDay, endOfLocalDay, type CivilDate } from '../domain/calendar/zoned-time.js';
export { taskDeadline } from '../domain/tasks/task-deadline.js';
