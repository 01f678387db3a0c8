import { calendarCache, loadCalendar } from './calendar-cache.js';
import { workingDayGap, type BusinessCalendar } from '../domain/calendar/business-calendar.js';
import { isValidTimeZone } from '../domain/calendar/zoned-time.js';
import { validationError } from '../errors/crm-error.js';
import { businessCalendarPatchSchema, businessCalendarSchema, type BusinessCalendarInput } from '../schema/calendar.js';
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
   * Updates the calendar: the fields given replace the current ones, the others keep their value
   * (a fresh tenant starts from the default calendar).
   *
   * @param input - any of `timezone` (IANA), `workingDays` (1 = Monday … 7 = Sunday), `workingHours`
   *   (sorted, non-overlapping `HH:MM` intervals) and `holidays` (`YYYY-MM-DD`)
   * @returns the calendar now in effect
   * @throws CrmError `VALIDATION` for a bad field, an unknown time zone, or holidays that leave no
   *   working day for ten years (`holidays`, code `no_working_day`; nothing is written);
   *   `FORBIDDEN` in a view without `setting` update rights
   * @example
   * await crm.calendar.set({ timezone: 'Europe/Berlin' }); // only the time zone changes
   * await crm.calendar.set({ workingHours: [{ start: '09:00', end: '13:00' }, { start: '14:00', end: '18:00' }], holidays: ['2026-12-25'] });
   */
  async set(input: BusinessCalendarInput): Promise<BusinessCalendar> {
    const patch = parseInput(businessCalendarPatchSchema, input, 'calendar.set');
    if (patch.timezone !== undefined && !isValidTimeZone(patch.timezone)) {
      throw validationError('calendar.set', [{ path: ['timezone'], code: 'invalid_value', message: `"${patch.timezone}" is not a known IANA time zone` }]);
    }
    return runWrite(this.ctx, async (op) => {
      op.guard?.require('setting', 'update');
      const [current] = await op.getMany<SettingRecord<BusinessCalendar>>('setting', ['calendar']);
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const calendar = parseInput(businessCalendarSchema, { ...(current?.value ?? (await loadCalendar(op))), ...defined }, 'calendar.set');
      const gap = workingDayGap(calendar);
      if (gap) {
        throw validationError('calendar.set', [{ path: ['holidays'], code: 'no_working_day', message: `leave no working day from ${gap.from} to ${gap.to}: business-day arithmetic needs one within ten years` }]);
      }
      const value: BusinessCalendar = { ...calendar, workingDays: [...calendar.workingDays].sort(), holidays: [...calendar.holidays].sort() };
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
    }, true);
  }
}
