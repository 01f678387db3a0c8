import type { ValidationIssue } from '../../errors/crm-error.js';
import { LAST_INSTANT } from '../../schema/primitives.js';
import { endOfLocalDay, isoWeekday, localInstants, utcMs, zonedParts, zonedToInstant } from '../calendar/zoned-time.js';

/** One `BYDAY` entry: an ISO weekday (1 = Monday) with an optional ordinal (`2TU`, `-1FR`). */
export interface ByDay {
  readonly weekday: number;
  readonly ordinal?: number;
}

/**
 * The supported subset of RFC 5545 recurrence rules (§3.3.10), parsed. See `parseRecurrence` for
 * what is accepted and what is refused.
 */
export interface RecurrenceRule {
  readonly freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  readonly interval: number;
  /** The weekday a week starts on (ISO, default 1 = Monday); matters for WEEKLY with INTERVAL > 1. */
  readonly wkst: number;
  readonly byDay?: readonly ByDay[];
  /** Days of the month, negative from the end (`-1` = last day). */
  readonly byMonthDay?: readonly number[];
  /** Months, 1–12. */
  readonly byMonth?: readonly number[];
  /** Positions in each period's set of dates, negative from the end (`-1` = last). */
  readonly bySetPos?: readonly number[];
  readonly count?: number;
  /** `UNTIL=…Z`: inclusive end, epoch ms. */
  readonly until?: number;
  /** `UNTIL=YYYYMMDD`: inclusive last local date, in the series' zone. */
  readonly untilDate?: { readonly year: number; readonly month: number; readonly day: number };
}

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
const FREQS = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const;
const MAX_COUNT = 1000;
const MAX_INTERVAL = 1000;

/** Rule parts of RFC 5545 that crmkit refuses, with the reason given to the caller. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  BYSECOND: 'tasks recur at most once a day, at the time of day of their first occurrence',
  BYMINUTE: 'tasks recur at most once a day, at the time of day of their first occurrence',
  BYHOUR: 'tasks recur at most once a day, at the time of day of their first occurrence',
  BYYEARDAY: 'use BYMONTH with BYMONTHDAY instead',
  BYWEEKNO: 'use BYMONTH, BYMONTHDAY or BYDAY instead',
  RSCALE: 'only the Gregorian calendar is supported',
  SKIP: 'only the Gregorian calendar is supported',
};

function parseIntegerList(text: string, min: number, max: number, allowNegative: boolean): number[] | undefined {
  const values: number[] = [];
  for (const item of text.split(',')) {
    if (!/^[+-]?\d{1,3}$/.test(item)) return undefined;
    const n = Number(item);
    if (n === 0 || Math.abs(n) < min || Math.abs(n) > max || (n < 0 && !allowNegative)) return undefined;
    values.push(n);
  }
  return values;
}

/**
 * Parses an RRULE (with or without the `RRULE:` prefix) of the subset crmkit supports:
 * - `FREQ` DAILY, WEEKLY, MONTHLY or YEARLY (HOURLY, MINUTELY and SECONDLY are refused);
 * - `INTERVAL` 1–1000, `COUNT` 1–1000 or `UNTIL` (`YYYYMMDDTHHMMSSZ`, or `YYYYMMDD` = through that local date);
 * - `WKST`, `BYMONTH`, `BYMONTHDAY`, `BYDAY` (ordinals like `2TU`, `-1FR` with MONTHLY and YEARLY only),
 *   `BYSETPOS` (with another BY part);
 * - refused as ambiguous: `BYDAY` mixing entries with and without an ordinal (`1MO,WE`);
 * - refused, by name: `BYHOUR`, `BYMINUTE`, `BYSECOND`, `BYYEARDAY`, `BYWEEKNO`, `RSCALE`, `SKIP`, unknown parts,
 *   parts given twice, `COUNT` with `UNTIL`, `BYMONTHDAY` with WEEKLY (RFC 5545 forbids both).
 *
 * @param text The rule, e.g. `FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1`.
 * @returns The rule, or the issues (path `['recurrence']`, codes `invalid_rrule` and `unsupported`).
 * @example
 * parseRecurrence('FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU').rule // the last Sunday of March, every year
 */
export function parseRecurrence(text: string): { rule?: RecurrenceRule; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const fail = (message: string, code = 'invalid_rrule') => void issues.push({ path: ['recurrence'], code, message });
  const parts = new Map<string, string>();
  for (const part of text.trim().replace(/^RRULE:/i, '').split(';').filter(Boolean)) {
    const [key, value, extra] = part.split('=');
    if (!key || value === undefined || extra !== undefined) {
      fail(`"${part.slice(0, 50)}" is not KEY=VALUE`);
      continue;
    }
    const name = key.toUpperCase();
    if (parts.has(name)) fail(`${name} is given twice`);
    parts.set(name, value.toUpperCase());
  }
  for (const key of parts.keys()) {
    const reason = UNSUPPORTED[key];
    if (reason) fail(`${key} is not supported: ${reason}`, 'unsupported');
    else if (!['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'WKST', 'BYMONTH', 'BYMONTHDAY', 'BYDAY', 'BYSETPOS'].includes(key)) {
      fail(`${key.slice(0, 30)} is not a supported rule part`, 'unsupported');
    }
  }
  const freqText = parts.get('FREQ');
  const freq = FREQS.find((f) => f === freqText);
  if (!freqText) fail('FREQ is required');
  else if (['HOURLY', 'MINUTELY', 'SECONDLY'].includes(freqText)) fail(`FREQ=${freqText} is not supported: tasks recur at most daily`, 'unsupported');
  else if (!freq) fail('FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY');

  const interval = parts.has('INTERVAL') ? Number(parts.get('INTERVAL')) : 1;
  if (!/^\d+$/.test(parts.get('INTERVAL') ?? '1') || interval < 1 || interval > MAX_INTERVAL) fail(`INTERVAL must be an integer from 1 to ${MAX_INTERVAL}`);

  let count: number | undefined;
  if (parts.has('COUNT')) {
    count = Number(parts.get('COUNT'));
    if (!/^\d+$/.test(parts.get('COUNT')!) || count < 1 || count > MAX_COUNT) fail(`COUNT must be an integer from 1 to ${MAX_COUNT}`);
  }
  let until: number | undefined;
  let untilDate: RecurrenceRule['untilDate'];
  if (parts.has('UNTIL')) {
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(parts.get('UNTIL')!);
    const [y, mo, d, h, mi, s, z] = m ? [+m[1]!, +m[2]!, +m[3]!, m[4], m[5], m[6], m[7]] : [];
    const validDate = m && new Date(utcMs(y!, mo! - 1, d!)).getUTCDate() === d && mo! >= 1 && mo! <= 12;
    if (!m || !validDate) fail('UNTIL must be YYYYMMDD or YYYYMMDDTHHMMSSZ');
    else if (h === undefined) untilDate = { year: y!, month: mo!, day: d! };
    else if (z !== 'Z') fail('UNTIL with a time must be in UTC (end with Z), as RFC 5545 requires for zoned series');
    else if (+h > 23 || +mi! > 59 || +s! > 59) fail('UNTIL must be YYYYMMDD or YYYYMMDDTHHMMSSZ');
    else until = utcMs(y!, mo! - 1, d!, +h, +mi!, +s!);
  }
  if (count !== undefined && parts.has('UNTIL')) fail('COUNT and UNTIL cannot both be given');

  let wkst = 1;
  if (parts.has('WKST')) {
    const index = WEEKDAYS.indexOf(parts.get('WKST') as (typeof WEEKDAYS)[number]);
    if (index < 0) fail('WKST must be one of MO, TU, WE, TH, FR, SA, SU');
    else wkst = index + 1;
  }
  let byDay: ByDay[] | undefined;
  if (parts.has('BYDAY')) {
    byDay = [];
    for (const item of parts.get('BYDAY')!.split(',')) {
      const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
      const ordinal = m?.[1] ? Number(m[1]) : undefined;
      const maxOrdinal = freq === 'YEARLY' && !parts.has('BYMONTH') ? 53 : 5;
      if (!m || (ordinal !== undefined && (ordinal === 0 || Math.abs(ordinal) > maxOrdinal))) fail(`BYDAY value "${item.slice(0, 20)}" is invalid`);
      else if (ordinal !== undefined && freq !== 'MONTHLY' && freq !== 'YEARLY') fail('BYDAY with an ordinal (like 2TU) needs FREQ=MONTHLY or YEARLY');
      else byDay.push({ weekday: WEEKDAYS.indexOf(m[2] as (typeof WEEKDAYS)[number]) + 1, ...(ordinal !== undefined ? { ordinal } : {}) });
    }
  }
  if (byDay && byDay.some((d) => d.ordinal !== undefined) && byDay.some((d) => d.ordinal === undefined)) {
    // rrule-temporal, rrule.js and python-dateutil give three different answers for `BYDAY=1MO,WE`.
    fail('BYDAY mixing weekdays with and without an ordinal (like 1MO,WE) is not supported: calendar programs disagree on its meaning', 'unsupported');
  }
  let byMonthDay: number[] | undefined;
  if (parts.has('BYMONTHDAY')) {
    byMonthDay = parseIntegerList(parts.get('BYMONTHDAY')!, 1, 31, true);
    if (!byMonthDay) fail('BYMONTHDAY values must be 1..31 or -31..-1');
    else if (freq === 'WEEKLY') fail('BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)');
  }
  let byMonth: number[] | undefined;
  if (parts.has('BYMONTH')) {
    byMonth = parseIntegerList(parts.get('BYMONTH')!, 1, 12, false);
    if (!byMonth) fail('BYMONTH values must be 1..12');
  }
  let bySetPos: number[] | undefined;
  if (parts.has('BYSETPOS')) {
    bySetPos = parseIntegerList(parts.get('BYSETPOS')!, 1, 366, true);
    if (!bySetPos) fail('BYSETPOS values must be 1..366 or -366..-1');
    else if (!byDay && !byMonthDay && !byMonth) fail('BYSETPOS needs another BY part (BYDAY, BYMONTHDAY or BYMONTH)');
  }
  if (issues.length || !freq) return { issues };
  const sorted = (values: number[] | undefined) => (values ? [...new Set(values)].sort((a, b) => a - b) : undefined);
  return {
    rule: {
      freq,
      interval,
      wkst,
      ...(byDay ? { byDay } : {}),
      ...(byMonthDay ? { byMonthDay: sorted(byMonthDay)! } : {}),
      ...(byMonth ? { byMonth: sorted(byMonth)! } : {}),
      ...(bySetPos ? { bySetPos: sorted(bySetPos)! } : {}),
      ...(count !== undefined ? { count } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(untilDate ? { untilDate } : {}),
    },
    issues,
  };
}

interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const DAY_MS = 86_400_000;
const daysInMonth = (y: number, m: number) => new Date(utcMs(y, m, 0)).getUTCDate();
const dayNumber = (d: CivilDate) => Math.floor(utcMs(d.year, d.month - 1, d.day) / DAY_MS);
const fromDayNumber = (n: number): CivilDate => {
  const date = new Date(n * DAY_MS);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
};
/** ISO weekday of a day number (day 0 = Thursday 1970-01-01). */
const weekdayOf = (n: number) => ((((n + 3) % 7) + 7) % 7) + 1;

/** The dates of one period (a day, a week from WKST, a month or a year), before the BY parts. */
function periodRange(rule: RecurrenceRule, period: number, start: CivilDate): { first: number; last: number } {
  const step = period * rule.interval;
  switch (rule.freq) {
    case 'DAILY': {
      const day = dayNumber(start) + step;
      return { first: day, last: day };
    }
    case 'WEEKLY': {
      const startDay = dayNumber(start);
      const weekStart = startDay - ((weekdayOf(startDay) - rule.wkst + 7) % 7) + step * 7;
      return { first: weekStart, last: weekStart + 6 };
    }
    case 'MONTHLY': {
      const index = start.year * 12 + (start.month - 1) + step;
      const year = Math.floor(index / 12);
      const month = (index % 12) + 1;
      const first = dayNumber({ year, month, day: 1 });
      return { first, last: first + daysInMonth(year, month) - 1 };
    }
    case 'YEARLY': {
      const year = start.year + step;
      return { first: dayNumber({ year, month: 1, day: 1 }), last: dayNumber({ year, month: 12, day: 31 }) };
    }
  }
}

/** Does the date match a BYDAY entry? Ordinals count within the month, or the year (YEARLY without BYMONTH). */
function matchesByDay(rule: RecurrenceRule, entry: ByDay, n: number, date: CivilDate): boolean {
  if (weekdayOf(n) !== entry.weekday) return false;
  if (entry.ordinal === undefined) return true;
  const inYear = rule.freq === 'YEARLY' && !rule.byMonth;
  const first = inYear ? dayNumber({ year: date.year, month: 1, day: 1 }) : dayNumber({ year: date.year, month: date.month, day: 1 });
  const last = inYear ? dayNumber({ year: date.year, month: 12, day: 31 }) : first + daysInMonth(date.year, date.month) - 1;
  return entry.ordinal > 0 ? Math.floor((n - first) / 7) + 1 === entry.ordinal : Math.floor((last - n) / 7) + 1 === -entry.ordinal;
}

/**
 * The dates of one period that the rule selects, sorted: RFC 5545's expand/limit table for the
 * supported parts, with the missing parts taken from DTSTART (its day of month, month, weekday).
 */
function periodDates(rule: RecurrenceRule, period: number, start: CivilDate): CivilDate[] {
  const { first, last } = periodRange(rule, period, start);
  const startWeekday = isoWeekday(start.year, start.month, start.day);
  const out: CivilDate[] = [];
  for (let n = first; n <= last; n++) {
    const date = fromDayNumber(n);
    if (rule.byMonth && !rule.byMonth.includes(date.month)) continue;
    if (rule.byMonthDay) {
      const length = daysInMonth(date.year, date.month);
      if (!rule.byMonthDay.some((d) => (d > 0 ? d : length + d + 1) === date.day)) continue;
    }
    if (rule.byDay && !rule.byDay.some((entry) => matchesByDay(rule, entry, n, date))) continue;
    // Parts the rule leaves out come from DTSTART.
    if (rule.freq === 'WEEKLY' && !rule.byDay && weekdayOf(n) !== startWeekday) continue;
    if ((rule.freq === 'MONTHLY' || rule.freq === 'YEARLY') && !rule.byMonthDay && !rule.byDay) {
      if (date.day !== start.day) continue;
      if (rule.freq === 'YEARLY' && !rule.byMonth && date.month !== start.month) continue;
    }
    out.push(date);
  }
  return out;
}

/** Picks BYSETPOS positions (1-based, negative from the end) out of a period's sorted set. */
function selectPositions<T>(items: readonly T[], positions: readonly number[] | undefined): T[] {
  if (!positions) return [...items];
  const picked = new Set<number>();
  for (const p of positions) {
    const index = p > 0 ? p - 1 : items.length + p;
    if (index >= 0 && index < items.length) picked.add(index);
  }
  return [...picked].sort((a, b) => a - b).map((i) => items[i]!);
}

/**
 * Days scanned past the last occurrence before a series counts as ended: the Gregorian calendar repeats
 * every 400 years, so a rule with nothing in that span never produces again (BYMONTH=2;BYMONTHDAY=30).
 */
const MAX_GAP_DAYS = 400 * 366;

/** Options of `occurrences`. */
export interface OccurrenceOptions {
  /**
   * The series is of all-day tasks: occurrences are local dates, each starting at the first instant
   * of its day (RFC 5545 DATE values have no time, so DST gaps never drop one).
   */
  readonly allDay?: boolean;
}

/**
 * Yields the occurrences of a series in order, with RFC 5545 semantics for the supported subset:
 * each at the wall-clock time of `dtstart` (to the second) in `timeZone`, from `dtstart` on,
 * honouring COUNT and UNTIL, and none after `LAST_INSTANT` (9999-12-31T23:59:59.999Z) or, all-day, 9999-12-31. A wall time that does not exist that day (a spring-forward gap) is no
 * occurrence and is not counted; a repeated wall time (fall back) is its first instant (§3.3.10).
 *
 * @param rule A rule from `parseRecurrence`.
 * @param dtstart The series start, epoch ms; occurrences before it are never produced.
 * @param timeZone IANA zone of the series' wall clock.
 * @returns A generator of `{ at: epoch ms, index: 0-based position in the series }`.
 * @example
 * [...occurrences(parseRecurrence('FREQ=WEEKLY;BYDAY=MO;COUNT=2').rule!, Date.parse('2026-03-02T09:00:00Z'), 'Europe/Berlin')]
 */
export function* occurrences(rule: RecurrenceRule, dtstart: number, timeZone: string, options: OccurrenceOptions = {}): Generator<{ at: number; index: number }> {
  const local = zonedParts(dtstart, timeZone);
  const start: CivilDate = { year: local.year, month: local.month, day: local.day };
  // Nothing after the last instant a timestamp holds, nor an all-day date after 9999-12-31 (in Kiritimati that
  // day starts before the last instant): a series reaching either ends there, as at an UNTIL.
  const end = Math.min(LAST_INSTANT, options.allDay ? zonedToInstant(fromDayNumber(Math.floor(LAST_INSTANT / DAY_MS) + 1), timeZone) - 1 : LAST_INSTANT);
  const until = Math.min(rule.until ?? (rule.untilDate ? endOfLocalDay(rule.untilDate, timeZone) - 1 : end), end);
  let index = 0;
  let lastDay = dayNumber(start);
  for (let period = 0; ; period++) {
    const { first } = periodRange(rule, period, start);
    if (first - lastDay > MAX_GAP_DAYS) return;
    // Offsets stay within ±14 h: a period starting a day after UNTIL cannot hold an occurrence.
    if (first * DAY_MS - DAY_MS > until) return;
    const instants: number[] = [];
    for (const date of periodDates(rule, period, start)) {
      if (options.allDay) instants.push(zonedToInstant(date, timeZone));
      else {
        const found = localInstants({ ...date, hour: local.hour, minute: local.minute, second: local.second }, timeZone);
        // A repeated wall time is its first instant, except DTSTART itself, which may be the second one.
        const at = found.includes(dtstart) ? dtstart : found[0];
        if (at !== undefined) instants.push(at);
      }
    }
    for (const at of selectPositions(instants, rule.bySetPos)) {
      if (at < dtstart) continue;
      if (at > until) return;
      yield { at, index };
      lastDay = first;
      index++;
      if (rule.count !== undefined && index >= rule.count) return;
    }
  }
}

/** The first occurrence strictly after `afterMs`, or `undefined` when the series has ended. */
export function occurrenceAfter(
  rule: RecurrenceRule,
  dtstart: number,
  timeZone: string,
  afterMs: number,
  options: OccurrenceOptions = {},
): { at: number; index: number } | undefined {
  for (const occurrence of occurrences(rule, dtstart, timeZone, options)) if (occurrence.at > afterMs) return occurrence;
  return undefined;
}
