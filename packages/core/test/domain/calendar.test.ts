import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusinessDays,
  addWorkingMinutes,
  isWorkingTime,
  nextWorkingTime,
  type BusinessCalendar,
} from '../../src/domain/calendar/business-calendar.js';
import { zonedParts, zonedToInstant } from '../../src/domain/calendar/zoned-time.js';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo'];
const HOURS = [
  [{ start: '09:00', end: '18:00' }],
  [{ start: '09:00', end: '13:00' }, { start: '14:00', end: '18:00' }],
  [{ start: '01:30', end: '03:30' }], // straddles the 02:00 DST jumps
  [{ start: '00:00', end: '24:00' }],
];

const calendarArb: fc.Arbitrary<BusinessCalendar> = fc.record({
  timezone: fc.constantFrom(...ZONES),
  workingDays: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }).map((d) => d.sort()),
  workingHours: fc.constantFrom(...HOURS),
  holidays: fc.uniqueArray(fc.constantFrom('2026-03-27', '2026-03-30', '2026-10-26', '2026-11-02', '2026-12-25', '2026-04-06'), { maxLength: 3 }),
});

// Around DST changes in both hemispheres: late March, early April, late October, early November.
const startArb = fc
  .constantFrom('2026-03-26T00:00:00Z', '2026-04-02T00:00:00Z', '2026-10-22T00:00:00Z', '2026-10-30T00:00:00Z', '2026-01-29T00:00:00Z')
  .chain((base) => fc.integer({ min: 0, max: 7 * 24 * 60 }).map((m) => Date.parse(base) + m * 60_000));

/** Brute force: is this minute working time, judged from its local wall-clock fields alone? */
function oracleWorking(cal: BusinessCalendar, ms: number): boolean {
  const p = zonedParts(ms, cal.timezone);
  const date = `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
  if (!cal.workingDays.includes(p.weekday) || cal.holidays.includes(date)) return false;
  const minute = p.hour * 60 + p.minute;
  return cal.workingHours.some(({ start, end }) => {
    const s = Number(start.slice(0, 2)) * 60 + Number(start.slice(3));
    const e = Number(end.slice(0, 2)) * 60 + Number(end.slice(3));
    return minute >= s && minute < e;
  });
}

describe('zoned time', () => {
  it('converts wall-clock time to instants and back, across DST', () => {
    expect(new Date(zonedToInstant({ year: 2026, month: 3, day: 29, hour: 1, minute: 30 }, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T00:30:00.000Z');
    expect(new Date(zonedToInstant({ year: 2026, month: 3, day: 29, hour: 3, minute: 30 }, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 does not exist that night: it resolves with the winter offset, i.e. 03:30 summer time.
    expect(new Date(zonedToInstant({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 happens twice on 25 Oct: the first one (summer time) is chosen.
    expect(new Date(zonedToInstant({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Berlin')).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2030-01-01') }), (zone, raw) => {
        const ms = Math.floor(raw / 60_000) * 60_000;
        const p = zonedParts(ms, zone);
        const back = zonedToInstant(p, zone);
        // Equal unless the wall time is the second occurrence of a repeated (fall-back) time.
        if (back !== ms) expect(zonedParts(back, zone)).toMatchObject({ year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute });
      }),
    );
  });
});

describe('business calendar', () => {
  it('adds working minutes exactly as a minute-stepping oracle counts them, across DST', () => {
    fc.assert(
      fc.property(calendarArb, startArb, fc.integer({ min: 0, max: 10 * 60 }), (cal, start, minutes) => {
        const result = addWorkingMinutes(cal, start, minutes);
        let t = start;
        let counted = 0;
        while (counted < minutes || !oracleWorking(cal, t)) {
          if (oracleWorking(cal, t)) {
            counted++;
            if (counted === minutes) {
              t += 60_000;
              break;
            }
          }
          t += 60_000;
        }
        expect(result).toBe(t);
        expect(isWorkingTime(cal, nextWorkingTime(cal, start))).toBe(true);
      }),
      { numRuns: 120 },
    );
  }, 120_000);

  it('adds business days by stepping local dates, keeping or setting the wall time', () => {
    fc.assert(
      fc.property(calendarArb, startArb, fc.integer({ min: 0, max: 15 }), fc.option(fc.constantFrom('08:00', '10:30', '17:45'), { nil: undefined }), (cal, start, n, at) => {
        const result = addBusinessDays(cal, start, n, at);
        const s = zonedParts(start, cal.timezone);
        let date = new Date(Date.UTC(s.year, s.month - 1, s.day));
        const isWorking = (d: Date) => {
          const wd = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
          return cal.workingDays.includes(wd) && !cal.holidays.includes(d.toISOString().slice(0, 10));
        };
        let left = n;
        if (left === 0) while (!isWorking(date)) date = new Date(date.getTime() + 86_400_000);
        while (left > 0) {
          date = new Date(date.getTime() + 86_400_000);
          if (isWorking(date)) left--;
        }
        const r = zonedParts(result, cal.timezone);
        expect(`${r.year}-${String(r.month).padStart(2, '0')}-${String(r.day).padStart(2, '0')}`).toBe(date.toISOString().slice(0, 10));
        const wanted = at ?? `${String(s.hour).padStart(2, '0')}:${String(s.minute).padStart(2, '0')}`;
        const got = `${String(r.hour).padStart(2, '0')}:${String(r.minute).padStart(2, '0')}`;
        // Equal, except when the wanted wall time does not exist that day (spring-forward gap).
        if (got !== wanted) expect(result).toBe(zonedToInstant({ year: r.year, month: r.month, day: r.day, hour: Number(wanted.slice(0, 2)), minute: Number(wanted.slice(3)) }, cal.timezone));
      }),
      { numRuns: 200 },
    );
  });

  it('handles the examples a sales team writes', () => {
    const berlin: BusinessCalendar = { timezone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '18:00' }], holidays: ['2026-04-06'] };
    // Friday 27 March 2026 16:00 CET + 2 business days at 10:00 → Tuesday 31 March 10:00 CEST (DST in between).
    const friday = Date.parse('2026-03-27T15:00:00Z');
    expect(new Date(addBusinessDays(berlin, friday, 2, '10:00')).toISOString()).toBe('2026-03-31T08:00:00.000Z');
    // + 4 working hours from Friday 16:00 → Monday 11:00 CEST.
    expect(new Date(addWorkingMinutes(berlin, friday, 240)).toISOString()).toBe('2026-03-30T09:00:00.000Z');
    // Easter Monday is a holiday: Thursday 2 April + 2 business days = Tuesday 7 April.
    expect(new Date(addBusinessDays(berlin, Date.parse('2026-04-02T08:00:00Z'), 2)).toISOString()).toBe('2026-04-07T08:00:00.000Z');
    // Month end: Friday 30 January + 1 business day = Monday 2 February.
    expect(new Date(addBusinessDays(berlin, Date.parse('2026-01-30T09:00:00Z'), 1)).toISOString()).toBe('2026-02-02T09:00:00.000Z');
    expect(() => addWorkingMinutes({ ...berlin, workingDays: [] }, friday, 10)).toThrow(/no working day/);
  });
});
