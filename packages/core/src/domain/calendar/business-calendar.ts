import { ruleViolation, type CrmError } from '../../errors/crm-error.js';
import { daysFromCivil, isoDateOf, isoWeekday, utcMs, zonedParts, zonedToInstant, zoneOffset } from './zoned-time.js';

/** A tenant's working time: which days, which hours, which holidays, in which zone. */
export interface BusinessCalendar {
  /** IANA time zone, e.g. `Europe/Berlin`. */
  readonly timezone: string;
  /** ISO weekdays that are working days (1 = Monday … 7 = Sunday). */
  readonly workingDays: readonly number[];
  /** Working intervals of a day, local `HH:MM`, sorted, non-overlapping (e.g. 09:00–13:00, 14:00–18:00). */
  readonly workingHours: readonly { readonly start: string; readonly end: string }[];
  /** Local dates that are not working days, `YYYY-MM-DD`. */
  readonly holidays: readonly string[];
}

export const DEFAULT_CALENDAR: BusinessCalendar = Object.freeze({
  // Frozen to the leaves: every crm without a stored calendar shares it, and `crm.calendar.get()` hands it out.
  timezone: 'UTC',
  workingDays: Object.freeze([1, 2, 3, 4, 5]) as number[],
  workingHours: Object.freeze([Object.freeze({ start: '09:00', end: '18:00' })]) as BusinessCalendar['workingHours'],
  holidays: Object.freeze([]) as unknown as string[],
});

interface CivilDate {
  year: number;
  month: number;
  day: number;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function addDays(d: CivilDate, n: number): CivilDate {
  const date = new Date(utcMs(d.year, d.month - 1, d.day + n));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/** True when the local date is a working day of the calendar. */
export function isWorkingDay(calendar: BusinessCalendar, date: CivilDate): boolean {
  return calendar.workingDays.includes(isoWeekday(date.year, date.month, date.day)) && !calendar.holidays.includes(isoDateOf(date));
}

/** Finds the instant in (lo, hi] where the zone's offset changes, given that it differs at lo and hi. */
function findTransition(lo: number, hi: number, timeZone: string): number {
  const before = zoneOffset(lo, timeZone);
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (zoneOffset(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The working intervals of a local date as instants (empty on non-working days). The day is cut
 * into pieces of constant UTC offset; in each piece, local time `a` happens at `wall(a) − offset`.
 * So a spring-forward gap shortens the interval and a repeated fall-back hour counts only where its
 * wall-clock time lies inside the working hours.
 */
function intervalsOn(calendar: BusinessCalendar, date: CivilDate): [number, number][] {
  if (!isWorkingDay(calendar, date)) return [];
  const tz = calendar.timezone;
  const midnight = utcMs(date.year, date.month - 1, date.day);
  // Real time that can show this local date: offsets lie within ±14 h (+ slack).
  const lo = midnight - 15 * 3_600_000;
  const hi = midnight + 39 * 3_600_000;
  const pieces: [number, number, number][] = [];
  const offLo = zoneOffset(lo, tz);
  if (offLo === zoneOffset(hi, tz)) pieces.push([lo, hi, offLo]);
  else {
    const t = findTransition(lo, hi, tz);
    pieces.push([lo, t, offLo], [t, hi, zoneOffset(t, tz)]);
  }
  const out: [number, number][] = [];
  for (const { start, end } of calendar.workingHours) {
    const wallA = midnight + minutesOf(start) * 60_000;
    const wallB = midnight + minutesOf(end) * 60_000;
    for (const [p0, p1, offset] of pieces) {
      const s = Math.max(p0, wallA - offset);
      const e = Math.min(p1, wallB - offset);
      if (s < e) {
        const last = out[out.length - 1];
        if (last && last[1] === s) last[1] = e;
        else out.push([s, e]);
      }
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function localDate(ms: number, timeZone: string): CivilDate {
  const p = zonedParts(ms, timeZone);
  return { year: p.year, month: p.month, day: p.day };
}

/** Is the instant inside working hours? */
export function isWorkingTime(calendar: BusinessCalendar, ms: number): boolean {
  return intervalsOn(calendar, localDate(ms, calendar.timezone)).some(([s, e]) => ms >= s && ms < e);
}

/**
 * Refusal of arithmetic the calendar cannot do: it has no working time, or none for longer than the
 * walk goes (`crm.calendar.set` refuses such calendars; one stored before, or passed in directly, ends here).
 */
function noWorkingTime(): CrmError<'RULE_VIOLATION'> {
  return ruleViolation([{ rule: 'calendar.noWorkingTime', message: 'the business calendar has no working day within ten years: change it with crm.calendar.set' }]);
}

/** The calendar must have at least one working day and interval, or the arithmetic never ends. */
function assertUsable(calendar: BusinessCalendar): void {
  if (calendar.workingDays.length === 0 || calendar.workingHours.length === 0) throw noWorkingTime();
}

/** Guard against calendars whose holidays swallow every working day for years: the longest gap walked. */
const MAX_DAYS_SCANNED = 3660;

/**
 * The first stretch of `MAX_DAYS_SCANNED` days or more without a working day (holidays on every
 * working weekday for ten years), as the local dates it spans; `undefined` when there is none.
 * `crm.calendar.set` refuses a calendar that has one: business-day arithmetic needs a working day within ten years.
 */
export function workingDayGap(calendar: BusinessCalendar): { readonly from: string; readonly to: string } | undefined {
  // Day numbers since 1970-01-01 (a Thursday, ISO weekday 4); holidays are dates of years 0000-9999.
  const works = (n: number) => calendar.workingDays.includes(((n + 3) % 7 + 7) % 7 + 1);
  const step = (n: number, by: number) => {
    do n += by;
    while (!works(n));
    return n;
  };
  const dateOf = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);
  const days = [...new Set(calendar.holidays.map((h) => Date.parse(h) / 86_400_000))].filter(works).sort((a, b) => a - b);
  // Runs of holidays that take every working weekday in between; the working days around a run are no holidays.
  for (let i = 0, j = 0; i < days.length; i = ++j) {
    while (step(days[j]!, 1) === days[j + 1]) j++;
    const before = step(days[i]!, -1);
    const after = step(days[j]!, 1);
    if (after - before > MAX_DAYS_SCANNED) return { from: dateOf(before + 1), to: dateOf(after - 1) };
  }
  return undefined;
}

/**
 * Adds `n` business days: steps over local dates that are working days (weekends and holidays
 * skipped) and keeps the local time of day, or sets it to `at` (`HH:MM`). DST-safe: the result is the
 * wall-clock time in the calendar's zone. `n = 0` means "today at `at`, or the next working day";
 * a negative `n` steps backwards (`-3` from a Monday is the Wednesday before).
 *
 * @example addBusinessDays(cal, Date.parse('2026-03-27T15:00:00Z'), 2, '10:00') // Tue 31 Mar, 10:00 local
 */
export function addBusinessDays(calendar: BusinessCalendar, ms: number, n: number, at?: string): number {
  assertUsable(calendar);
  const start = zonedParts(ms, calendar.timezone);
  let date: CivilDate = { year: start.year, month: start.month, day: start.day };
  let remaining = n;
  let scanned = 0;
  if (remaining === 0) {
    while (!isWorkingDay(calendar, date)) {
      date = addDays(date, 1);
      if (++scanned > MAX_DAYS_SCANNED) throw noWorkingTime();
    }
  }
  // Backwards too (a reminder N business days before a due date): the same walk, one day at a time.
  const step = remaining < 0 ? -1 : 1;
  while (remaining !== 0) {
    date = addDays(date, step);
    // A gap, not the walk, is bounded: 3650 business days (a template's maximum) span fourteen years.
    if (isWorkingDay(calendar, date)) {
      remaining -= step;
      scanned = 0;
    } else if (++scanned > MAX_DAYS_SCANNED) throw noWorkingTime();
  }
  const hour = at ? Number(at.slice(0, 2)) : start.hour;
  const minute = at ? Number(at.slice(3, 5)) : start.minute;
  return zonedToInstant({ ...date, hour, minute }, calendar.timezone);
}

/** Adds calendar days keeping the local wall time (or setting it to `at`), DST-safe. */
export function addCalendarDays(calendar: BusinessCalendar, ms: number, n: number, at?: string): number {
  const start = zonedParts(ms, calendar.timezone);
  const date = addDays({ year: start.year, month: start.month, day: start.day }, n);
  return zonedToInstant(
    { ...date, hour: at ? Number(at.slice(0, 2)) : start.hour, minute: at ? Number(at.slice(3, 5)) : start.minute },
    calendar.timezone,
  );
}

/**
 * Adds working time: counts `minutes` only inside working intervals, starting at `ms` (or at the
 * next working interval when `ms` is outside working time). DST days have their real length.
 * Negative `minutes` count backwards (from `ms`, or from the end of the previous working interval).
 *
 * @example addWorkingMinutes(cal, fridayAt17, 4 * 60) // Monday 12:00 with 09:00–18:00 hours
 */
export function addWorkingMinutes(calendar: BusinessCalendar, ms: number, minutes: number): number {
  assertUsable(calendar);
  if (minutes < 0) return subtractWorkingTime(calendar, ms, -minutes * 60_000);
  let remaining = minutes * 60_000;
  let date = localDate(ms, calendar.timezone);
  let cursor = ms;
  for (let scanned = 0; scanned <= MAX_DAYS_SCANNED; scanned++, date = addDays(date, 1)) {
    for (const [s, e] of intervalsOn(calendar, date)) {
      if (e <= cursor) continue;
      const from = Math.max(s, cursor);
      if (remaining === 0) return from;
      if (from + remaining <= e) return from + remaining;
      remaining -= e - from;
      cursor = e;
      scanned = 0;
    }
  }
  throw noWorkingTime();
}

/** Working time backwards: `span` ms of working intervals before `ms` (the mirror of the forward walk). */
function subtractWorkingTime(calendar: BusinessCalendar, ms: number, span: number): number {
  let remaining = span;
  let date = localDate(ms, calendar.timezone);
  let cursor = ms;
  for (let scanned = 0; scanned <= MAX_DAYS_SCANNED; scanned++, date = addDays(date, -1)) {
    for (const [s, e] of intervalsOn(calendar, date).reverse()) {
      if (s >= cursor) continue;
      const to = Math.min(e, cursor);
      if (to - remaining >= s) return to - remaining;
      remaining -= to - s;
      cursor = s;
      scanned = 0;
    }
  }
  throw noWorkingTime();
}

/** The next instant at or after `ms` that is inside working hours. */
export function nextWorkingTime(calendar: BusinessCalendar, ms: number): number {
  return addWorkingMinutes(calendar, ms, 0);
}

/** Whole working days between two local dates (exclusive of the start); negative when `toMs` is earlier. */
export function businessDaysBetween(calendar: BusinessCalendar, fromMs: number, toMs: number): number {
  if (toMs < fromMs) return -businessDaysBetween(calendar, toMs, fromMs);
  const from = localDate(fromMs, calendar.timezone);
  const to = localDate(toMs, calendar.timezone);
  const span = daysFromCivil(to.year, to.month, to.day) - daysFromCivil(from.year, from.month, from.day);
  let count = 0;
  let date = from;
  for (let i = 0; i < span; i++) {
    date = addDays(date, 1);
    if (isWorkingDay(calendar, date)) count++;
  }
  return count;
}
