import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { occurrenceAfter, occurrences, parseRecurrence, type RecurrenceRule } from '@crmkit/core/scheduler';
import { zonedParts } from '../../src/domain/calendar/zoned-time.js';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney'];
const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

const ruleTextArb = fc
  .record({
    freq: fc.constantFrom('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
    interval: fc.integer({ min: 1, max: 4 }),
    byDay: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }),
    ordinal: fc.option(fc.constantFrom(1, 2, -1), { nil: undefined }),
    byMonthDay: fc.uniqueArray(fc.constantFrom(1, 15, 28, 29, 30, 31, -1), { minLength: 1, maxLength: 3 }),
    use: fc.constantFrom('none', 'byDay', 'byMonthDay'),
    end: fc.oneof(fc.record({ count: fc.integer({ min: 1, max: 30 }) }), fc.record({ untilDays: fc.integer({ min: 1, max: 800 }) }), fc.constant({})),
  })
  .map((r) => {
    const parts = [`FREQ=${r.freq}`, `INTERVAL=${r.interval}`];
    if (r.use === 'byDay' && r.freq !== 'YEARLY') {
      parts.push(`BYDAY=${r.byDay.map((d) => (r.freq === 'MONTHLY' && r.ordinal ? `${r.ordinal}${DAYS[d]}` : DAYS[d])).join(',')}`);
    }
    if (r.use === 'byMonthDay' && (r.freq === 'MONTHLY' || r.freq === 'YEARLY')) parts.push(`BYMONTHDAY=${r.byMonthDay.join(',')}`);
    return { text: parts.join(';'), end: r.end as { count?: number; untilDays?: number } };
  });

/** Does a local date match the rule's BY* parts (the rule's own definition, checked independently)? */
function matches(rule: RecurrenceRule, start: ReturnType<typeof zonedParts>, local: ReturnType<typeof zonedParts>): boolean {
  const length = new Date(Date.UTC(local.year, local.month, 0)).getUTCDate();
  // YEARLY;BYMONTHDAY expands to every month (RFC 5545), not only DTSTART's.
  if (rule.byMonthDay) return rule.byMonthDay.some((d) => (d > 0 ? d : length + d + 1) === local.day);
  if (rule.byDay) {
    return rule.byDay.some(({ weekday, ordinal }) => {
      if (local.weekday !== weekday) return false;
      if (ordinal === undefined) return true;
      const nth = Math.ceil(local.day / 7);
      const fromEnd = Math.ceil((length - local.day + 1) / 7);
      return ordinal > 0 ? nth === ordinal : fromEnd === -ordinal;
    });
  }
  switch (rule.freq) {
    case 'DAILY':
      return true;
    case 'WEEKLY':
      return local.weekday === start.weekday;
    case 'MONTHLY':
      return local.day === start.day;
    case 'YEARLY':
      return local.day === start.day && local.month === start.month;
  }
}

describe('recurrence (RRULE subset)', () => {
  it('occurrences strictly increase, match their rule, keep the wall time, respect COUNT and UNTIL', () => {
    fc.assert(
      fc.property(
        ruleTextArb,
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.parse('2025-01-01'), max: Date.parse('2027-01-01') }).map((ms) => Math.floor(ms / 60_000) * 60_000),
        ({ text, end }, zone, dtstart) => {
          const until = end.untilDays ? new Date(dtstart + end.untilDays * 86_400_000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '') : undefined;
          const full = `${text}${end.count ? `;COUNT=${end.count}` : ''}${until ? `;UNTIL=${until}` : ''}`;
          const { rule, issues } = parseRecurrence(full);
          expect(issues).toEqual([]);
          const start = zonedParts(dtstart, zone);
          const list = [...take(occurrences(rule!, dtstart, zone), 60)];
          list.forEach((o, i) => {
            expect(o.index).toBe(i);
            expect(o.at).toBeGreaterThanOrEqual(dtstart);
            if (i > 0) expect(o.at).toBeGreaterThan(list[i - 1]!.at);
            const local = zonedParts(o.at, zone);
            expect(matches(rule!, start, local)).toBe(true);
            // The wall time of dtstart is kept (unless it falls in a DST gap that day).
            if (local.hour !== start.hour || local.minute !== start.minute) expect(Math.abs(local.hour * 60 + local.minute - (start.hour * 60 + start.minute))).toBeLessThanOrEqual(60);
            if (rule!.until !== undefined) expect(o.at).toBeLessThanOrEqual(rule!.until);
          });
          if (rule!.count !== undefined) expect(list.length).toBeLessThanOrEqual(rule!.count);
          // occurrenceAfter agrees with the sequence.
          if (list.length > 1) expect(occurrenceAfter(rule!, dtstart, zone, list[0]!.at)).toEqual(list[1]);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('counts exactly COUNT occurrences for rules that always produce', () => {
    const { rule } = parseRecurrence('FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=7');
    const list = [...occurrences(rule!, Date.parse('2026-03-02T09:00:00Z'), 'Europe/Berlin')];
    expect(list.map((o) => new Date(o.at).toISOString().slice(0, 16))).toEqual([
      '2026-03-02T09:00', '2026-03-04T09:00', '2026-03-06T09:00', '2026-03-09T09:00', '2026-03-11T09:00', '2026-03-13T09:00', '2026-03-16T09:00',
    ]);
  });

  it('keeps a 10:00 meeting at 10:00 local across a DST change, and skips months without the 31st', () => {
    const { rule } = parseRecurrence('FREQ=DAILY;COUNT=3');
    const berlin = [...occurrences(rule!, Date.parse('2026-03-28T09:00:00Z'), 'Europe/Berlin')].map((o) => new Date(o.at).toISOString());
    expect(berlin).toEqual(['2026-03-28T09:00:00.000Z', '2026-03-29T08:00:00.000Z', '2026-03-30T08:00:00.000Z']);
    const monthly = parseRecurrence('FREQ=MONTHLY;COUNT=3').rule!;
    expect([...occurrences(monthly, Date.parse('2026-01-31T12:00:00Z'), 'UTC')].map((o) => new Date(o.at).toISOString().slice(0, 10))).toEqual(['2026-01-31', '2026-03-31', '2026-05-31']);
    const lastFriday = parseRecurrence('RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=2').rule!;
    expect([...occurrences(lastFriday, Date.parse('2026-01-01T12:00:00Z'), 'UTC')].map((o) => new Date(o.at).toISOString().slice(0, 10))).toEqual(['2026-01-30', '2026-02-27']);
  });

  it('reports unsupported and malformed parts', () => {
    for (const bad of [
      'FREQ=HOURLY', 'FREQ=DAILY;BYHOUR=9', 'FREQ=DAILY;COUNT=0', 'FREQ=DAILY;COUNT=2;UNTIL=20260101', 'FREQ=WEEKLY;BYDAY=XX', 'FREQ=WEEKLY;BYDAY=2MO',
      'FREQ=DAILY;UNTIL=20260230', 'nonsense', 'FREQ=DAILY;FREQ=WEEKLY', 'FREQ=WEEKLY;BYMONTHDAY=1', 'FREQ=MONTHLY;BYSETPOS=1', 'FREQ=MONTHLY;BYDAY=1MO,WE',
      'FREQ=DAILY;UNTIL=20260101T000000', 'FREQ=YEARLY;BYMONTH=13', 'FREQ=MONTHLY;BYMONTH=2;BYDAY=6MO', 'FREQ=DAILY;INTERVAL=0', 'FREQ=DAILY;WKST=XX',
    ]) {
      expect(parseRecurrence(bad).issues.length, bad).toBeGreaterThan(0);
    }
  });

  it('names each refused part in a VALIDATION-ready issue', () => {
    for (const part of ['BYHOUR=9', 'BYMINUTE=5', 'BYSECOND=1', 'BYYEARDAY=100', 'BYWEEKNO=20', 'RSCALE=HEBREW', 'X-FOO=1']) {
      const { rule, issues } = parseRecurrence(`FREQ=YEARLY;${part}`);
      expect(rule).toBeUndefined();
      const name = part.split('=')[0]!;
      expect(issues).toEqual([expect.objectContaining({ path: ['recurrence'], code: 'unsupported', message: expect.stringContaining(name) })]);
    }
    expect(parseRecurrence('FREQ=SECONDLY').issues).toEqual([expect.objectContaining({ code: 'unsupported', message: expect.stringContaining('SECONDLY') })]);
  });

  it('accepts the documented subset', () => {
    for (const good of [
      'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', 'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'FREQ=YEARLY;BYDAY=20MO', 'FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,SU',
      'FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR', 'FREQ=DAILY;BYMONTH=1,2;BYMONTHDAY=-1', 'RRULE:FREQ=DAILY;UNTIL=20261231', 'freq=daily;until=20261231T120000z',
    ]) {
      expect(parseRecurrence(good).issues, good).toEqual([]);
    }
  });
});

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  let i = 0;
  for (const x of it) {
    if (i++ >= n) return;
    yield x;
  }
}
