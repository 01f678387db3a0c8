import { DEFAULT_CALENDAR, type BusinessCalendar } from '../domain/calendar/business-calendar.js';
import type { CrmContext } from '../crm/context.js';
import { settingCache, type SettingCache } from '../crm/setting-cache.js';
import type { Operation } from '../crm/operation.js';

/** The calendar cache of a crm, made on first use (shared by the tasks and scheduler features). */
export function calendarCache(ctx: CrmContext): SettingCache<BusinessCalendar> {
  return settingCache<BusinessCalendar>(ctx, 'calendar', DEFAULT_CALENDAR);
}

/** The business calendar in effect for the operation's tenant. */
export function loadCalendar(op: Operation): Promise<BusinessCalendar> {
  return calendarCache(op.ctx).load(op.tx, op.tenantId);
}
