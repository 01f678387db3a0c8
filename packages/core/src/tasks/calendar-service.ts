import { calendarCache, loadCalendar } from './calendar-cache.js';
import type { BusinessCalendar } from '../domain/calendar/business-calendar.js';
import { isValidTimeZone } from '../domain/calendar/zoned-time.js';
import { validationError } from '../errors/crm-error.js';
import { businessCalendarSchema, type BusinessCalendarInput } from '../schema/calendar.js';
import { bumpConfigRevision } from '../crm/config-revision.js';
import type { CrmContext, SettingRecord } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';

/**
 * The tenant's business calendar: working days, working hours, holidays and time zone. Task
 * templates ("+2 business days at 10:00") and working-hour arithmetic use it. `crm.calendar`.
 */
export class CalendarService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /** The calendar in effect (default: Monday–Friday, 09:00–18:00, UTC, no holidays). */
  async get(): Promise<BusinessCalendar> {
    return runRead(this.ctx, (op) => {
      op.guard?.require('setting', 'read');
      return loadCalendar(op);
    });
  }

  /**
   * Replaces the calendar.
   *
   * @example
   * await crm.calendar.set({ timezone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5],
   *   workingHours: [{ start: '09:00', end: '13:00' }, { start: '14:00', end: '18:00' }], holidays: ['2026-12-25'] });
   */
  async set(input: BusinessCalendarInput): Promise<BusinessCalendar> {
    const calendar = parseInput(businessCalendarSchema, input, 'calendar.set');
    if (!isValidTimeZone(calendar.timezone)) {
      throw validationError('calendar.set', [{ path: ['timezone'], code: 'invalid_value', message: `"${calendar.timezone}" is not a known IANA time zone` }]);
    }
    const value: BusinessCalendar = { ...calendar, workingDays: [...calendar.workingDays].sort(), holidays: [...calendar.holidays].sort() };
    return runWrite(this.ctx, async (op) => {
      op.guard?.require('setting', 'update');
      const [current] = await op.getMany<SettingRecord<BusinessCalendar>>('setting', ['calendar']);
      const next: SettingRecord<BusinessCalendar> = {
        id: 'calendar',
        tenantId: op.tenantId,
        key: 'calendar',
        value,
        version: (current?.version ?? 0) + 1,
        createdAt: current?.createdAt ?? op.now,
        updatedAt: op.now,
      };
      if (current) await op.update('setting', current, next);
      else await op.insert('setting', next);
      calendarCache(op.ctx).invalidate();
      await bumpConfigRevision(op);
      op.record('calendar.updated', { type: 'setting', id: 'calendar' }, { calendar: value });
      return value;
    });
  }
}
