import type { ValidationIssue } from '../../errors/crm-error.js';
import { isoWeekday, zonedParts, zonedToInstant } from '../calendar/zoned-time.js';

/** The supported subset of RFC 5545 recurrence rules. */
export interface RecurrenceRule {
  readonly freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  readonly interval: number;
  /** Weekdays (ISO 1–7), with an ordinal for MONTHLY (`2TU` = second Tuesday, `-1FR` = last Friday). */
  readonly byDay?: readonly { readonly weekday: number; readonly ordinal?: number }[];
  /** Days of the month, negative from the end (`-1` = last day). */
  readonly byMonthDay?: readonly number[];
  readonly count?: number;
  /** Inclusive end, epoch ms. */
  readonly until?: number;
}

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const MAX_COUNT = 1000;

/**
 * Parses an RRULE (with or without the `RRULE:` prefix): FREQ (DAILY, WEEKLY, MONTHLY, YEARLY),
 * INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL. Anything else is reported, not ignored.
 */
export function parseRecurrence(text: string): { rule?: RecurrenceRule; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const fail = (message: string) => issues.push({ path: ['recurrence'], code: 'invalid_rrule', message });
  const parts = new Map<string, string>();
  for (const part of text.trim().replace(/^RRULE:/i, '').split(';').filter(Boolean)) {
    const [key, value, extra] = part.split('=');
    if (!key || value === undefined || extra !== undefined) {
      fail(`"${part}" is not KEY=VALUE`);
      continue;
    }
    if (parts.has(key.toUpperCase())) fail(`${key} is given twice`);
    parts.set(key.toUpperCase(), value.toUpperCase());
  }
  for (const key of parts.keys()) {
    if (!['FREQ', 'INTERVAL', 'BYDAY', 'BYMONTHDAY', 'COUNT', 'UNTIL', 'WKST'].includes(key)) fail(`${key} is not supported`);
  }
  const freq = parts.get('FREQ');
  if (!freq || !['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'].includes(freq)) fail('FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY');
  if (parts.has('WKST') && parts.get('WKST') !== 'MO') fail('only WKST=MO is supported');
  const interval = parts.has('INTERVAL') ? Number(parts.get('INTERVAL')) : 1;
  if (!Number.isInteger(interval) || interval < 1 || interval > 1000) fail('INTERVAL must be an integer from 1 to 1000');
  let count: number | undefined;
  if (parts.has('COUNT')) {
    count = Number(parts.get('COUNT'));
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) fail(`COUNT must be an integer from 1 to ${MAX_COUNT}`);
  }
  let until: number | undefined;
  if (parts.has('UNTIL')) {
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(parts.get('UNTIL')!);
    until = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, m[4] ? +m[4] : 23, m[5] ? +m[5] : 59, m[6] ? +m[6] : 59) : Number.NaN;
    if (!m || Number.isNaN(until) || new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!)).getUTCDate() !== +m[3]!) fail('UNTIL must be YYYYMMDD or YYYYMMDDTHHMMSSZ');
  }
  if (count !== undefined && until !== undefined) fail('COUNT and UNTIL cannot both be given');
  let byDay: { weekday: number; ordinal?: number }[] | undefined;
  if (parts.has('BYDAY')) {
    byDay = [];
    for (const item of parts.get('BYDAY')!.split(',')) {
      const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
      const ordinal = m?.[1] ? Number(m[1]) : undefined;
      if (!m || (ordinal !== undefined && (ordinal === 0 || Math.abs(ordinal) > 5))) fail(`BYDAY value "${item}" is invalid`);
      else if (ordinal !== undefined && freq !== 'MONTHLY') fail('ordinal BYDAY (like 2TU) is only supported with FREQ=MONTHLY');
      else byDay.push({ weekday: WEEKDAYS.indexOf(m[2]!) + 1, ...(ordinal !== undefined ? { ordinal } : {}) });
    }
  }
  let byMonthDay: number[] | undefined;
  if (parts.has('BYMONTHDAY')) {
    byMonthDay = parts.get('BYMONTHDAY')!.split(',').map(Number);
    if (byMonthDay.some((d) => !Number.isInteger(d) || d === 0 || d < -31 || d > 31)) fail('BYMONTHDAY values must be 1..31 or -31..-1');
    if (freq !== 'MONTHLY' && freq !== 'YEARLY') fail('BYMONTHDAY needs FREQ=MONTHLY or YEARLY');
    if (byDay) fail('BYDAY and BYMONTHDAY cannot be combined');
  }
  if (issues.length) return { issues };
  return {
    rule: {
      freq: freq as RecurrenceRule['freq'],
      interval,
      ...(byDay ? { byDay } : {}),
      ...(byMonthDay ? { byMonthDay } : {}),
      ...(count !== undefined ? { count } : {}),
      ...(until !== undefined ? { until } : {}),
    },
    issues,
  };
}

interface CivilDate {
  year: number;
  month: number;
  day: number;
}

const daysInMonth = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const dayNumber = (d: CivilDate) => Math.floor(Date.UTC(d.year, d.month - 1, d.day) / 86_400_000);
const fromDayNumber = (n: number): CivilDate => {
  const date = new Date(n * 86_400_000);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
};

/** Candidate local dates of one period (a day, week, month or year), sorted. */
function periodDates(rule: RecurrenceRule, period: number, start: CivilDate): CivilDate[] {
  switch (rule.freq) {
    case 'DAILY': {
      const date = fromDayNumber(dayNumber(start) + period * rule.interval);
      const wd = isoWeekday(date.year, date.month, date.day);
      return !rule.byDay || rule.byDay.some((d) => d.weekday === wd) ? [date] : [];
    }
    case 'WEEKLY': {
      const startWd = isoWeekday(start.year, start.month, start.day);
      const monday = dayNumber(start) - (startWd - 1) + period * rule.interval * 7;
      const days = rule.byDay ? [...new Set(rule.byDay.map((d) => d.weekday))].sort() : [startWd];
      return days.map((wd) => fromDayNumber(monday + wd - 1));
    }
    case 'MONTHLY': {
      const index = start.year * 12 + (start.month - 1) + period * rule.interval;
      const year = Math.floor(index / 12);
      const month = (index % 12) + 1;
      const length = daysInMonth(year, month);
      let days: number[];
      if (rule.byMonthDay) days = rule.byMonthDay.map((d) => (d > 0 ? d : length + d + 1)).filter((d) => d >= 1 && d <= length);
      else if (rule.byDay) {
        days = [];
        for (const { weekday, ordinal } of rule.byDay) {
          const matching = Array.from({ length }, (_, i) => i + 1).filter((d) => isoWeekday(year, month, d) === weekday);
          if (ordinal === undefined) days.push(...matching);
          else {
            const pick = ordinal > 0 ? matching[ordinal - 1] : matching[matching.length + ordinal];
            if (pick !== undefined) days.push(pick);
          }
        }
      } else days = start.day <= length ? [start.day] : [];
      return [...new Set(days)].sort((a, b) => a - b).map((day) => ({ year, month, day }));
    }
    case 'YEARLY': {
      const year = start.year + period * rule.interval;
      const length = daysInMonth(year, start.month);
      const days = rule.byMonthDay ? rule.byMonthDay.map((d) => (d > 0 ? d : length + d + 1)) : [start.day];
      return [...new Set(days)].filter((d) => d >= 1 && d <= length).sort((a, b) => a - b).map((day) => ({ year, month: start.month, day }));
    }
  }
}

/** Periods scanned before giving up on a rule that produces nothing (e.g. BYMONTHDAY=31 with INTERVAL=2 from February). */
const MAX_EMPTY_PERIODS = 2000;

/**
 * Yields the occurrences of a series in order: instants of the wall-clock time of `dtstart` in
 * `timeZone` (so a 10:00 meeting stays at 10:00 across DST), from `dtstart` on, honouring COUNT and UNTIL.
 */
export function* occurrences(rule: RecurrenceRule, dtstart: number, timeZone: string): Generator<{ at: number; index: number }> {
  const local = zonedParts(dtstart, timeZone);
  const start: CivilDate = { year: local.year, month: local.month, day: local.day };
  let index = 0;
  let empty = 0;
  for (let period = 0; empty < MAX_EMPTY_PERIODS; period++) {
    const dates = periodDates(rule, period, start);
    let produced = false;
    for (const date of dates) {
      const at = zonedToInstant({ ...date, hour: local.hour, minute: local.minute }, timeZone);
      if (at < dtstart) continue;
      if (rule.until !== undefined && at > rule.until) return;
      yield { at, index };
      produced = true;
      index++;
      if (rule.count !== undefined && index >= rule.count) return;
    }
    empty = produced ? 0 : empty + 1;
  }
}

/** The first occurrence strictly after `afterMs`, or `undefined` when the series has ended. */
export function occurrenceAfter(rule: RecurrenceRule, dtstart: number, timeZone: string, afterMs: number): { at: number; index: number } | undefined {
  for (const occurrence of occurrences(rule, dtstart, timeZone)) if (occurrence.at > afterMs) return occurrence;
  return undefined;
}
