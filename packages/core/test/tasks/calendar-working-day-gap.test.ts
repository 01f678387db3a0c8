import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { addBusinessDays, addWorkingMinutes, DEFAULT_CALENDAR, nextWorkingTime, type BusinessCalendar } from '@crmkit/core/tasks';
import { workingDayGap } from '../../src/domain/calendar/business-calendar.js';
import { expectCrmError } from '../helpers.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const weekday = (ms: number) => new Date(ms).getUTCDay() || 7;
/** Every date from `from` for `days` days that falls on one of the weekdays. */
const datesOn = (from: string, days: number, weekdays: readonly number[]) =>
  Array.from({ length: days }, (_, i) => Date.parse(from) + i * DAY).filter((ms) => weekdays.includes(weekday(ms))).map(iso);
/** Only Mondays work, and every Monday of eleven years from 2027 is a holiday. */
const MONDAYS = datesOn('2027-01-01', 11 * 366, [1]);
const noMondays: BusinessCalendar = { ...DEFAULT_CALENDAR, workingDays: [1], holidays: MONDAYS };

/** Brute force: the longest run of days without a working day around the holidays, and where it starts. */
function longestRun(calendar: BusinessCalendar): { length: number; from: string; to: string } {
  const holidays = new Set(calendar.holidays);
  const times = calendar.holidays.map(Date.parse);
  let best = { length: 0, from: '', to: '' };
  let run = 0;
  for (let ms = Math.min(...times) - 8 * DAY; ms <= Math.max(...times) + 8 * DAY; ms += DAY) {
    const working = calendar.workingDays.includes(weekday(ms)) && !holidays.has(iso(ms));
    run = working ? 0 : run + 1;
    if (run > best.length) best = { length: run, from: iso(ms - (run - 1) * DAY), to: iso(ms) };
  }
  return best;
}

const expectNoWorkingTime = (call: () => unknown) => {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(isCrmError(error, 'RULE_VIOLATION') && error.details.violations[0]!.rule).toBe('calendar.noWorkingTime');
};

describe('a calendar with no working day for ten years', () => {
  it('workingDayGap finds exactly the stretches of 3660 days or more a day-by-day walk finds (property)', () => {
    const arb = fc.record({
      workingDays: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 }),
      start: fc.integer({ min: 0, max: 20_000 }).map((d) => iso(Date.parse('1990-01-01') + d * DAY)),
      days: fc.integer({ min: 3_400, max: 4_000 }),
      kept: fc.array(fc.nat(), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(arb, ({ workingDays, start, days, kept }) => {
        const all = datesOn(start, days, workingDays);
        // A few working days left among the holidays split the stretch.
        const holidays = all.filter((_, i) => !kept.some((k) => k % all.length === i));
        const calendar: BusinessCalendar = { ...DEFAULT_CALENDAR, workingDays, holidays };
        const run = longestRun(calendar);
        const gap = workingDayGap(calendar);
        expect(gap !== undefined).toBe(run.length >= 3660);
        if (gap) expect(gap).toEqual({ from: run.from, to: run.to });
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('crm.calendar.set refuses it with VALIDATION at holidays and writes nothing; nine years is fine', async () => {
    const { crm } = await createTestCrm();
    const error = await expectCrmError(crm.calendar.set({ workingDays: [1], holidays: MONDAYS }), 'VALIDATION');
    expect(error.details.issues).toEqual([expect.objectContaining({ path: ['holidays'], code: 'no_working_day' })]);
    expect(error.message).toMatch(/from 2026-12-29 to 2038-\d\d-\d\d/); // from the day after the last working Monday
    expect(await crm.calendar.get()).toEqual(DEFAULT_CALENDAR);
    // The same in two steps: the merged calendar is what is checked.
    await crm.calendar.set({ holidays: MONDAYS });
    await expectCrmError(crm.calendar.set({ workingDays: [1] }), 'VALIDATION');
    expect((await crm.calendar.get()).workingDays).toEqual([1, 2, 3, 4, 5]);
    const nine = MONDAYS.filter((d) => d < '2036-01-01');
    expect((await crm.calendar.set({ workingDays: [1], holidays: nine })).holidays).toHaveLength(nine.length);
    const next = addBusinessDays(await crm.calendar.get(), Date.parse('2026-12-28T10:00:00Z'), 1);
    expect(iso(next)).toBe('2036-01-07');
  });

  it('business-day arithmetic over such a calendar (passed in, or stored before the check) is a RULE_VIOLATION, not a RangeError', () => {
    const from = Date.parse('2027-01-01T10:00:00Z');
    expectNoWorkingTime(() => addBusinessDays(noMondays, from, 1));
    expectNoWorkingTime(() => addBusinessDays(noMondays, from, 0));
    expectNoWorkingTime(() => addBusinessDays(noMondays, Date.parse('2037-12-01T10:00:00Z'), -1));
    expectNoWorkingTime(() => addWorkingMinutes(noMondays, from, 60));
    expectNoWorkingTime(() => addWorkingMinutes(noMondays, Date.parse('2037-12-01T10:00:00Z'), -60));
    expectNoWorkingTime(() => nextWorkingTime(noMondays, from));
    expectNoWorkingTime(() => addWorkingMinutes({ ...DEFAULT_CALENDAR, workingDays: [] }, from, 10));
  });
});
