import fc from 'fast-check';
import rrule from 'rrule';
import { RRuleTemporal } from 'rrule-temporal';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { occurrences, parseRecurrence } from '@crmkit/core/scheduler';

/**
 * Differential test of the recurrence expansion against rrule-temporal, an RFC 5545 implementation on
 * Temporal: random rules of the accepted subset, random start instants (with seconds) and zones with
 * unusual DST rules (30-minute shifts, midnight transitions, southern hemisphere, no DST).
 */
const ZONES = [
  'UTC', 'Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Sao_Paulo', 'America/Santiago', 'America/St_Johns',
  'Australia/Sydney', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kolkata', 'Asia/Tokyo', 'America/Havana',
];
// Africa/Casablanca is left out: temporal-polyfill reads a wall time at the exact instant of its 03:00
// fall-back with the old offset, where the platform's zone data (and crmkit) use the new one.
const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const TAKE = 40;
/** Occurrences are compared up to TAKE or this many years after the start (sparse rules need long spans). */
const HORIZON_YEARS: Record<string, number> = { DAILY: 4, WEEKLY: 12, MONTHLY: 40, YEARLY: 80 };
const horizon = (rule: string, dtstart: number) => dtstart + HORIZON_YEARS[/FREQ=(\w+)/.exec(rule)![1]!]! * 365 * 86_400_000;

const ordinalDay = (max: number) =>
  fc.tuple(fc.oneof(fc.integer({ min: 1, max }), fc.integer({ min: -max, max: -1 })), fc.constantFrom(...DAYS)).map(([n, d]) => `${n}${d}`);

const ruleArb = fc
  .record({
    freq: fc.constantFrom('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
    interval: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    wkst: fc.option(fc.constantFrom(...DAYS), { nil: undefined }),
    byMonth: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
    byMonthDay: fc.option(fc.uniqueArray(fc.oneof(fc.integer({ min: 1, max: 31 }), fc.integer({ min: -31, max: -1 })), { minLength: 1, maxLength: 4 }), { nil: undefined }),
    byDayPlain: fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 4 }),
    byDayOrdinal: fc.uniqueArray(ordinalDay(5), { minLength: 1, maxLength: 3 }),
    byDayYear: fc.uniqueArray(ordinalDay(53), { minLength: 1, maxLength: 3 }),
    useByDay: fc.constantFrom('none', 'plain', 'ordinal'),
    bySetPos: fc.option(fc.uniqueArray(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: -5, max: -1 })), { minLength: 1, maxLength: 2 }), { nil: undefined }),
    end: fc.oneof(
      fc.record({ count: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ untilDays: fc.integer({ min: 0, max: 1500 }), dateOnly: fc.boolean(), secondOffset: fc.integer({ min: -3600, max: 3600 }) }),
      fc.constant({}),
    ),
  })
  .map((r) => {
    const parts = [`FREQ=${r.freq}`];
    if (r.interval) parts.push(`INTERVAL=${r.interval}`);
    if (r.wkst) parts.push(`WKST=${r.wkst}`);
    if (r.byMonth) parts.push(`BYMONTH=${r.byMonth.join(',')}`);
    if (r.byMonthDay && r.freq !== 'WEEKLY') parts.push(`BYMONTHDAY=${r.byMonthDay.join(',')}`);
    if (r.useByDay === 'plain') parts.push(`BYDAY=${r.byDayPlain.join(',')}`);
    if (r.useByDay === 'ordinal' && r.freq === 'MONTHLY') parts.push(`BYDAY=${r.byDayOrdinal.join(',')}`);
    // rrule-temporal ignores BYMONTHDAY next to a year-wide ordinal BYDAY; that case has its own test below.
    if (r.useByDay === 'ordinal' && r.freq === 'YEARLY' && (r.byMonth || !parts.some((p) => p.startsWith('BYMONTHDAY')))) {
      parts.push(`BYDAY=${(r.byMonth ? r.byDayOrdinal : r.byDayYear).join(',')}`);
    }
    if (r.bySetPos && parts.some((p) => p.startsWith('BY'))) parts.push(`BYSETPOS=${r.bySetPos.join(',')}`);
    return { parts, end: r.end as { count?: number; untilDays?: number; dateOnly?: boolean; secondOffset?: number } };
  });

const startArb = fc
  .integer({ min: Date.parse('2023-01-01T00:00:00Z') / 1000, max: Date.parse('2028-12-31T00:00:00Z') / 1000 })
  .map((s) => s * 1000);

const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function oracle(rule: string, dtstart: number, zone: string): number[] {
  const start = Temporal.Instant.fromEpochMilliseconds(dtstart).toZonedDateTimeISO(zone);
  const rrule = new RRuleTemporal({ rruleString: rule, dtstart: start, maxIterations: 1_000_000 });
  const end = Temporal.Instant.fromEpochMilliseconds(horizon(rule, dtstart)).toZonedDateTimeISO(zone);
  return rrule.between(start, end, true).slice(0, TAKE).map((d) => d.epochMilliseconds);
}

function ours(rule: string, dtstart: number, zone: string): number[] {
  const parsed = parseRecurrence(rule);
  expect(parsed.issues).toEqual([]);
  const out: number[] = [];
  for (const o of occurrences(parsed.rule!, dtstart, zone)) {
    if (o.at > horizon(rule, dtstart)) break;
    expect(o.index).toBe(out.length);
    out.push(o.at);
    if (out.length >= TAKE) break;
  }
  return out;
}

describe('recurrence expansion agrees with rrule-temporal (RFC 5545)', () => {
  it('random rules, start times with seconds and zones give the same occurrences', () => {
    fc.assert(
      fc.property(ruleArb, startArb, fc.constantFrom(...ZONES), ({ parts, end }, dtstart, zone) => {
        const all = [...parts];
        if (end.count) all.push(`COUNT=${end.count}`);
        if (end.untilDays !== undefined) {
          const at = dtstart + end.untilDays * 86_400_000 + (end.secondOffset ?? 0) * 1000;
          all.push(`UNTIL=${end.dateOnly ? compact(at).slice(0, 8) : compact(at)}`);
        }
        const rule = all.join(';');
        expect(ours(rule, dtstart, zone), `${rule} from ${new Date(dtstart).toISOString()} in ${zone}`).toEqual(oracle(rule, dtstart, zone));
      }),
      { numRuns: Number(process.env.RRULE_RUNS ?? 200) },
    );
  }, 300_000);

  it('FREQ=YEARLY;BYDAY=MO;COUNT=10 gives the next ten Mondays (not ten 2nd Decembers)', () => {
    const rule = 'FREQ=YEARLY;BYDAY=MO;COUNT=10';
    const start = Date.parse('2024-12-02T07:00:00Z');
    const got = ours(rule, start, 'UTC').map((ms) => new Date(ms).toISOString().slice(0, 10));
    expect(got).toEqual(['2024-12-02', '2024-12-09', '2024-12-16', '2024-12-23', '2024-12-30', '2025-01-06', '2025-01-13', '2025-01-20', '2025-01-27', '2025-02-03']);
    expect(ours(rule, start, 'UTC')).toEqual(oracle(rule, start, 'UTC'));
  });

  it('a weekday listed with two ordinals gives both (first and last Monday of each month)', () => {
    const rule = 'FREQ=MONTHLY;BYDAY=1MO,-1MO;COUNT=6';
    const start = Date.parse('2026-01-01T08:00:00Z');
    expect(ours(rule, start, 'Europe/Berlin')).toEqual(oracle(rule, start, 'Europe/Berlin'));
    expect(ours(rule, start, 'Europe/Berlin').map((ms) => new Date(ms).toISOString().slice(0, 10))).toEqual(['2026-01-05', '2026-01-26', '2026-02-02', '2026-02-23', '2026-03-02', '2026-03-30']);
  });

  it('BYMONTHDAY limits a year-wide ordinal BYDAY (RFC 5545 expand/limit table; rrule.js agrees, rrule-temporal does not)', () => {
    const start = Date.parse('2023-01-01T09:00:00Z');
    const text = 'FREQ=YEARLY;BYMONTHDAY=1,2,3,4,5,6,7;BYDAY=1MO,-1SU;COUNT=4';
    const reference = rrule.rrulestr(`DTSTART:20230101T090000Z\nRRULE:${text}`).all().map((d) => d.getTime());
    expect(ours(text, start, 'UTC')).toEqual(reference);
    expect(reference.map((ms) => new Date(ms).toISOString().slice(0, 10))).toEqual(['2023-01-02', '2024-01-01', '2025-01-06', '2026-01-05']);
    expect(ours('FREQ=YEARLY;BYMONTHDAY=-1;BYDAY=1MO', start, 'UTC')).toEqual([]);
  });

  it('keeps the seconds of the start time', () => {
    const start = Date.parse('2026-03-02T09:00:30Z');
    const got = ours('FREQ=DAILY;COUNT=3', start, 'Europe/Berlin').map((ms) => new Date(ms).toISOString());
    expect(got).toEqual(['2026-03-02T09:00:30.000Z', '2026-03-03T09:00:30.000Z', '2026-03-04T09:00:30.000Z']);
  });

  it('drops an occurrence whose wall time falls into a DST gap and uses the first of a repeated hour (RFC 5545 §3.3.10)', () => {
    const spring = ours('FREQ=DAILY;COUNT=3', Date.parse('2026-03-28T01:30:00Z'), 'Europe/Berlin').map((ms) => new Date(ms).toISOString());
    expect(spring).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z']);
    const autumn = ours('FREQ=DAILY;COUNT=2', Date.parse('2026-10-24T00:30:00Z'), 'Europe/Berlin').map((ms) => new Date(ms).toISOString());
    expect(autumn).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z']);
  });

  it('a start in the second pass of a repeated hour is the first occurrence', () => {
    const start = Date.parse('2026-10-25T01:30:00Z'); // 02:30+01:00, after the clocks went back in Berlin
    expect(ours('FREQ=DAILY;COUNT=3', start, 'Europe/Berlin')).toEqual(oracle('FREQ=DAILY;COUNT=3', start, 'Europe/Berlin'));
    expect(ours('FREQ=DAILY;COUNT=3', start, 'Europe/Berlin')[0]).toBe(start);
  });

  it('all-day series are dates: a midnight DST gap does not drop a day', () => {
    const { rule } = parseRecurrence('FREQ=DAILY;COUNT=3');
    // Santiago moves from 24:00 to 01:00 in early September: that day starts at 01:00.
    const start = Date.parse('2026-09-05T04:00:00Z'); // 2026-09-05T00:00-04:00
    const days = [...occurrences(rule!, start, 'America/Santiago', { allDay: true })].map((o) => o.at);
    expect(days.length).toBe(3);
    expect(days.map((ms) => new Date(ms).toISOString())).toEqual(['2026-09-05T04:00:00.000Z', '2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
  });
});
