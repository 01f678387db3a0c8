import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { addBusinessDays, addWorkingMinutes, businessDaysBetween, DEFAULT_CALENDAR, type BusinessCalendar } from '../../src/domain/calendar/business-calendar.js';

// Review 18 #2: business-day arithmetic backwards (a negative count) — every function of the kind.
const BERLIN: BusinessCalendar = { timezone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '13:00' }, { start: '14:00', end: '18:00' }], holidays: ['2026-01-06'] };

describe('business days backwards', () => {
  it('addBusinessDays with a negative count steps back over weekends and holidays', () => {
    const monday = Date.parse('2026-01-12T09:00:00.000Z');
    expect(new Date(addBusinessDays(DEFAULT_CALENDAR, monday, -3)).toISOString()).toBe('2026-01-07T09:00:00.000Z');
    expect(new Date(addBusinessDays(DEFAULT_CALENDAR, monday, -1)).toISOString()).toBe('2026-01-09T09:00:00.000Z');
    // Berlin: 6 Jan is a holiday, so 3 business days before Fri 9 Jan is Mon 5 Jan (08:00Z = 09:00 local).
    expect(new Date(addBusinessDays(BERLIN, Date.parse('2026-01-09T08:00:00.000Z'), -3)).toISOString()).toBe('2026-01-05T08:00:00.000Z');
  });

  it('addBusinessDays(-n) undoes addBusinessDays(n) from a working day (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 40 }), (day, n) => {
        const start = addBusinessDays(BERLIN, Date.parse('2025-01-01T10:00:00.000Z') + day * 86_400_000, 0);
        const forward = addBusinessDays(BERLIN, start, n);
        expect(addBusinessDays(BERLIN, forward, -n)).toBe(start);
        expect(businessDaysBetween(BERLIN, start, forward)).toBe(n);
        expect(businessDaysBetween(BERLIN, forward, start)).toBe(-n);
      }),
    );
  });

  it('addWorkingMinutes with negative minutes counts working time backwards', () => {
    // Monday 10:00 UTC minus 2 working hours (09:00–18:00) is Friday 17:00.
    expect(new Date(addWorkingMinutes(DEFAULT_CALENDAR, Date.parse('2026-01-12T10:00:00.000Z'), -120)).toISOString()).toBe('2026-01-09T17:00:00.000Z');
    // From outside working time: Saturday noon minus 1 hour is Friday 17:00.
    expect(new Date(addWorkingMinutes(DEFAULT_CALENDAR, Date.parse('2026-01-10T12:00:00.000Z'), -60)).toISOString()).toBe('2026-01-09T17:00:00.000Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 5000 }), (hour, minutes) => {
        const start = addWorkingMinutes(BERLIN, Date.parse('2025-03-01T00:00:00.000Z') + hour * 3_600_000, 0);
        const forward = addWorkingMinutes(BERLIN, start, minutes);
        const back = addWorkingMinutes(BERLIN, forward, -minutes);
        // Back lands on the start, or on the end of the interval before it when start opened an interval.
        expect(addWorkingMinutes(BERLIN, back, 0)).toBe(start);
      }),
    );
  });

  it('a taskDue rule with businessDays fires N business days before the due time', async () => {
    const { crm, clock } = await createTestCrm(); // Monday 2026-01-05 09:00Z
    const rule = await crm.automations.define({ name: 'remind', trigger: { type: 'taskDue', before: { amount: 3, unit: 'businessDays' } }, actions: [{ type: 'emit', name: 'soon' }] });
    const task = await crm.tasks.create({ subject: 'Call', type: 'call', dueAt: '2026-01-12T09:00:00.000Z' });
    const fired: string[] = [];
    for (let h = 0; h < 24 * 7; h += 6) {
      if ((await crm.automations.tick()).runs) fired.push(new Date(clock.now()).toISOString());
      clock.advance(6 * 3_600_000);
    }
    expect(fired).toEqual(['2026-01-07T09:00:00.000Z']);
    const runs = await crm.automations.runs({ ruleId: rule.id });
    expect(runs.items.map((r) => [r.subjectId, r.status])).toEqual([[task.id, 'done']]);
  });
});
