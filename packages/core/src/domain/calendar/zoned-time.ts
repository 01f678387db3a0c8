/**
 * Wall-clock time in an IANA time zone, computed with the platform's `Intl` (no tz database shipped).
 * All functions are pure; instants are epoch milliseconds.
 */

/** Local calendar fields of an instant in a zone. `weekday` is ISO: 1 = Monday … 7 = Sunday. */
export interface ZonedParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      // Year 0 is 1 BC, -1 is 2 BC: without the era they would read as 1 and 2.
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the platform knows the zone. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * `Date.UTC` (month 0–11, fields may overflow) for every year from -300 on: `Date.UTC` itself reads years 0–99
 * as 1900–1999. The Gregorian calendar repeats every 400 years (146 097 days, whole weeks), so the
 * time is taken 400 years later and that span subtracted.
 */
export function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  return Date.UTC(year + 400, month, day, hour, minute, second) - 12_622_780_800_000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  return Math.floor(utcMs(year, month - 1, day) / 86_400_000);
}

/** ISO weekday (1 = Monday) of a civil date. */
export function isoWeekday(year: number, month: number, day: number): number {
  const d = new Date(utcMs(year, month - 1, day)).getUTCDay();
  return d === 0 ? 7 : d;
}

/** The local fields of `ms` in `timeZone`. */
export function zonedParts(ms: number, timeZone: string): ZonedParts {
  const values: Record<string, number> = {};
  let bc = false;
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type === 'era') bc = part.value === 'BC';
    else if (part.type !== 'literal') values[part.type] = Number(part.value);
  }
  const year = bc ? 1 - values.year! : values.year!;
  const month = values.month!;
  const day = values.day!;
  return { year, month, day, hour: values.hour!, minute: values.minute!, second: values.second!, weekday: isoWeekday(year, month, day) };
}

/** Offset of the zone from UTC at an instant, in ms (positive east of Greenwich). */
export function zoneOffset(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  const asUtc = utcMs(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** A local wall-clock time: a civil date and, optionally, a time of day. */
export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour?: number;
  readonly minute?: number;
  readonly second?: number;
}

/**
 * Every instant that shows `local` on the zone's wall clock, earliest first: one normally, two in a
 * repeated (fall-back) hour, none in a skipped (spring-forward) gap.
 */
export function localInstants(local: LocalDateTime, timeZone: string): number[] {
  const wall = utcMs(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  // Two candidate offsets: the one in effect a day before and a day after the wall time.
  const before = zoneOffset(wall - 86_400_000, timeZone);
  const after = zoneOffset(wall + 86_400_000, timeZone);
  const candidates = [...new Set([wall - before, wall - after])].sort((a, b) => a - b);
  return candidates.filter((candidate) => {
    const p = zonedParts(candidate, timeZone);
    return utcMs(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) === wall;
  });
}

/**
 * The instant of a local wall-clock time in a zone. A time skipped by a DST jump resolves to the
 * same offset as before the jump (so 02:30 on a spring-forward night becomes 03:30); a repeated
 * time (fall back) resolves to its first occurrence. This is RFC 5545 §3.3.5's reading of a
 * DATE-TIME with a TZID.
 */
export function zonedToInstant(local: LocalDateTime, timeZone: string): number {
  const found = localInstants(local, timeZone)[0];
  if (found !== undefined) return found;
  // Not representable (inside a spring-forward gap): keep the pre-transition offset.
  const wall = utcMs(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return wall - zoneOffset(wall - 86_400_000, timeZone);
}

/** A civil date, `YYYY-MM-DD` split into numbers. */
export interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** Parses `YYYY-MM-DD` (already validated) into a civil date. */
export function parseIsoDate(date: string): CivilDate {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return { year, month, day };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A civil date as `YYYY-MM-DD` (a year outside 0000–9999 has more or fewer digits: no ISO date). */
export const isoDateOf = (d: CivilDate): string => `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;

/** The local date of an instant in a zone, `YYYY-MM-DD` (see `isoDateOf`). */
export function localIsoDate(ms: number, timeZone: string): string {
  return isoDateOf(zonedParts(ms, timeZone));
}

/** The first instant of a local day (usually its midnight; 01:00 where midnight falls into a DST gap). */
export function startOfLocalDay(date: CivilDate, timeZone: string): number {
  return zonedToInstant({ year: date.year, month: date.month, day: date.day }, timeZone);
}

/**
 * The end of a local day, exclusive: the first instant of the next local day. A day lasts 23 or 25
 * hours on DST changes, so this is never `start + 24 h` computed blindly.
 */
export function endOfLocalDay(date: CivilDate, timeZone: string): number {
  const next = new Date(utcMs(date.year, date.month - 1, date.day + 1));
  return startOfLocalDay({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, timeZone);
}
