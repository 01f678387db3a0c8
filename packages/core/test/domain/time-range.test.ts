import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { occurrences, parseRecurrence } from '@crmkit/core/scheduler';
import { checkedTimestamp, toTimestamp } from '../../src/domain/clock.js';
import { addBusinessDays, addCalendarDays, addWorkingMinutes, DEFAULT_CALENDAR } from '../../src/domain/calendar/business-calendar.js';
import { localInstants, localIsoDate, utcMs, zonedParts } from '../../src/domain/calendar/zoned-time.js';
import { rottingStartsAt } from '../../src/domain/funnel/rotting.js';
import { nextNoticeAt, taskNotices } from '../../src/domain/tasks/notices.js';
import { templateDueAt } from '../../src/domain/tasks/task-due.js';
import { parseTimestamp } from '../../src/imports/value-parsers.js';
import { FIRST_INSTANT, LAST_INSTANT } from '../../src/schema/primitives.js';
import type { Deal } from '../../src/schema/deal.js';
import type { Pipeline, TaskTemplate } from '../../src/schema/pipeline.js';
import type { Task } from '../../src/schema/task.js';

// A time outside UTC years 0000–9999 is written with a sign ('+010000-…', '-000001-…') and sorts before
// every timestamp: a notice computed past 9999-12-31 spun the scheduler (review12h #1). Every function that
// computes a time from another must refuse (VALIDATION) or give a canonical timestamp that sorts as its time.
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY = 86_400_000;
const SPAN = 400 * DAY;
const ZONES = ['UTC', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];

/** An instant within `SPAN` of either end of the range. */
const nearAnEnd = fc.oneof(fc.integer({ min: LAST_INSTANT - SPAN, max: LAST_INSTANT }), fc.integer({ min: FIRST_INSTANT, max: FIRST_INSTANT + SPAN }));

/** Either VALIDATION naming the field, or a canonical timestamp that is the time itself. */
function refusedOrExact(compute: () => number, path: (string | number)[]): { ms: number; text: string } | 'refused' {
  const ms = compute();
  try {
    const text = checkedTimestamp(ms, 'test', ...path);
    expect(text).toMatch(CANONICAL);
    expect(Date.parse(text)).toBe(ms);
    return { ms, text };
  } catch (error) {
    if (!isCrmError(error, 'VALIDATION')) throw error;
    expect(error.details.issues).toEqual([{ path, code: 'out_of_range', message: 'would fall outside UTC years 0000-9999' }]);
    expect(ms < FIRST_INSTANT || ms > LAST_INSTANT).toBe(true);
    return 'refused';
  }
}

describe('the range a timestamp holds', () => {
  it('is one pair of constants: 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z', () => {
    expect(new Date(FIRST_INSTANT).toISOString()).toBe('0000-01-01T00:00:00.000Z');
    expect(new Date(LAST_INSTANT).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(new Date(LAST_INSTANT + 1).toISOString()).toBe('+010000-01-01T00:00:00.000Z');
  });

  it('toTimestamp holds any instant within it, canonical and in the order of the instants (property)', () => {
    const around = fc.integer({ min: FIRST_INSTANT - 10 * SPAN, max: LAST_INSTANT + 10 * SPAN });
    fc.assert(
      fc.property(around, around, (a, b) => {
        const [ta, tb] = [toTimestamp(a), toTimestamp(b)];
        expect(ta).toMatch(CANONICAL);
        expect(Date.parse(ta)).toBe(Math.min(Math.max(a, FIRST_INSTANT), LAST_INSTANT));
        // Sorting the text never contradicts the instants (held ones may tie).
        if (a < b) expect(ta <= tb).toBe(true);
      }),
    );
  });

  it('checkedTimestamp refuses outside it with VALIDATION naming the field, and is exact inside (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: FIRST_INSTANT - SPAN, max: LAST_INSTANT + SPAN }), (ms) => {
        const inside = ms >= FIRST_INSTANT && ms <= LAST_INSTANT;
        expect(refusedOrExact(() => ms, ['actions', 1, 'for']) === 'refused').toBe(!inside);
      }),
    );
  });
});

describe('computing functions near either end (property)', () => {
  const due = fc.record({
    amount: fc.integer({ min: 0, max: 3650 }),
    unit: fc.constantFrom('minutes', 'hours', 'days', 'businessDays', 'workingHours'),
    at: fc.option(fc.constantFrom('00:00', '09:30', '23:59'), { nil: undefined }),
  }) as fc.Arbitrary<TaskTemplate['due']>;

  it('template due times (stage templates, chains, automation tasks and waits): refused, or the exact time, in order', () => {
    fc.assert(
      fc.property(nearAnEnd, due, fc.constantFrom(...ZONES), (from, template, timezone) => {
        const result = refusedOrExact(() => templateDueAt(template, from, { ...DEFAULT_CALENDAR, timezone }), ['due']);
        if (result === 'refused') return;
        // `at` may set an earlier time on the first day; otherwise the due time is not before `from` and
        // at most the span the amount allows (business time: weekends and evenings between).
        expect(result.ms).toBeGreaterThanOrEqual(from - DAY);
        const unit = { minutes: 60_000, hours: 3_600_000, days: DAY, businessDays: DAY, workingHours: 3_600_000 }[template.unit];
        const slack = template.unit === 'businessDays' || template.unit === 'workingHours' ? 4 : 1;
        expect(result.ms - from).toBeLessThanOrEqual(template.amount * unit * slack + 4 * DAY);
        expect(result.text >= toTimestamp(from)).toBe(result.ms >= from);
      }),
      { numRuns: 200 },
    );
  });

  it('business-day arithmetic walks real days at the lower end too (Date.UTC read years 0-99 as 1900-1999)', () => {
    fc.assert(
      fc.property(fc.integer({ min: FIRST_INSTANT + 30 * DAY, max: FIRST_INSTANT + 100 * 365 * DAY }), fc.integer({ min: -20, max: 20 }), fc.constantFrom(...ZONES), (from, n, timezone) => {
        const calendar = { ...DEFAULT_CALENDAR, timezone };
        const days = addCalendarDays(calendar, from, n);
        expect(Math.abs(days - from - n * DAY)).toBeLessThanOrEqual(2 * 3_600_000 + 3 * 60_000);
        expect(Math.abs(addBusinessDays(calendar, from, n) - from)).toBeLessThanOrEqual((Math.abs(n) * 7) / 5 * DAY + 4 * DAY);
        expect(addWorkingMinutes(calendar, from, 9 * 60) - from).toBeLessThanOrEqual(4 * DAY);
      }),
    );
  });

  it('the wall clock of a zone round-trips near either end (years 0 and below carry their era)', () => {
    fc.assert(
      fc.property(nearAnEnd, fc.constantFrom(...ZONES), (ms, zone) => {
        const p = zonedParts(ms, zone);
        const wall = utcMs(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
        expect(Math.abs(wall - ms)).toBeLessThanOrEqual(15 * 3_600_000);
        expect(localInstants(p, zone)).toContain(Math.floor(ms / 1000) * 1000);
        expect(localIsoDate(ms, zone) === toTimestamp(wall).slice(0, 10)).toBe(wall >= FIRST_INSTANT && wall <= LAST_INSTANT);
      }),
    );
    for (let year = -300; year <= 10_000; year += 7) expect(utcMs(year, 1, 29, 12)).toBe(new Date(0).setUTCFullYear(year, 1, 29) + 12 * 3_600_000);
  });

  it('task notices: the next one is within the range or there is none', () => {
    fc.assert(
      fc.property(nearAnEnd, fc.uniqueArray(fc.integer({ min: 0, max: 60 * 24 * 60 }), { maxLength: 3 }), fc.integer({ min: 1, max: 60 * 24 }), (dueMs, reminders, overdueMinutes) => {
        const dueAt = toTimestamp(dueMs);
        const task = { id: 'task_1', status: 'open', dueAt, deadlineAt: dueAt, allDay: false, reminders, notifiedUntil: toTimestamp(FIRST_INSTANT) } as unknown as Task;
        const settings = { overdueAfterMs: overdueMinutes * 60_000 };
        for (let after = FIRST_INSTANT - 1, n = 0; ; n++) {
          const next = nextNoticeAt(task, after, settings);
          if (next === undefined) break;
          expect(next).toBeGreaterThan(after);
          expect(Date.parse(toTimestamp(next))).toBe(next);
          after = next;
          expect(n).toBeLessThan(taskNotices(task, settings).length);
        }
      }),
    );
  });

  it('recurring series end within the range (all-day ones by 9999-12-31 in their zone), in order', () => {
    const rule = fc.constantFrom('FREQ=DAILY', 'FREQ=WEEKLY;BYDAY=MO,FR', 'FREQ=MONTHLY;BYMONTHDAY=-1', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1');
    const start = fc.oneof(fc.integer({ min: LAST_INSTANT - 40 * DAY, max: LAST_INSTANT }), fc.integer({ min: FIRST_INSTANT, max: FIRST_INSTANT + SPAN }));
    fc.assert(
      fc.property(start, rule, fc.constantFrom(...ZONES), fc.boolean(), (dtstart, text, zone, allDay) => {
        let last = dtstart - 1;
        let n = 0;
        for (const { at } of occurrences(parseRecurrence(text).rule!, dtstart, zone, { allDay })) {
          expect(at).toBeGreaterThan(last);
          expect(at).toBeLessThanOrEqual(LAST_INSTANT);
          if (allDay) expect(zonedParts(at, zone).year).toBeLessThanOrEqual(9999);
          last = at;
          // Near the lower end a series goes on for centuries: enough to see its order.
          if (++n > 60) break;
        }
        // Near the upper end every series ends (at most a daily one's 41 days).
        if (dtstart > FIRST_INSTANT + SPAN) expect(n).toBeLessThanOrEqual(42);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('a deal that would start rotting after 9999-12-31 never rots', () => {
    const pipeline = { stages: [{ key: 'new', rottenDays: 30 }] } as unknown as Pipeline;
    fc.assert(
      fc.property(nearAnEnd, (last) => {
        const start = rottingStartsAt({ status: 'open', stageKey: 'new', lastActivityAt: toTimestamp(last) } as Deal, pipeline);
        expect(start === undefined ? last + 30 * DAY > LAST_INSTANT : start === last + 30 * DAY).toBe(true);
      }),
    );
  });
});

describe('imported times', () => {
  it('a cell whose offset carries it outside UTC years 0000-9999 is no timestamp (a problem of its row, not a stored +010000)', () => {
    expect(parseTimestamp('9999-12-31T23:30:00-01:00', 'en-US')).toBeUndefined();
    expect(parseTimestamp('0000-01-01T00:30:00+01:00', 'en-US')).toBeUndefined();
    expect(parseTimestamp('9999-12-31T23:30:00+01:00', 'en-US')).toBe('9999-12-31T22:30:00.000Z');
    expect(parseTimestamp('0000-01-01T00:30:00-01:00', 'en-US')).toBe('0000-01-01T01:30:00.000Z');
  });
});
