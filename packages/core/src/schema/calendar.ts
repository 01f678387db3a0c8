import * as z from 'zod/mini';
import { isoDateSchema, text, int } from './primitives.js';

const hhmm = z.string().check(z.regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be HH:MM'));

const calendarShape = z.strictObject({
  timezone: text(64),
  workingDays: z.array(z.number().check(int(), z.gte(1), z.lte(7))).check(z.minLength(1), z.maxLength(7)),
  workingHours: z.array(z.strictObject({ start: hhmm, end: hhmm })).check(z.minLength(1), z.maxLength(6)),
  holidays: z.array(isoDateSchema).check(z.maxLength(2000)),
});

/** What `crm.calendar.set` accepts: any of the calendar's fields; the others keep their current value. */
export const businessCalendarPatchSchema = z.partial(calendarShape);

/** A tenant's business calendar, as stored (and as `crm.calendar.set` checks it after merging a patch). */
export const businessCalendarSchema = calendarShape
  .check(
    z.superRefine((cal, ctx) => {
      let previousEnd = -1;
      cal.workingHours.forEach((h, i) => {
        const s = Number(h.start.slice(0, 2)) * 60 + Number(h.start.slice(3));
        const e = Number(h.end.slice(0, 2)) * 60 + Number(h.end.slice(3));
        if (e <= s) ctx.issues.push({ code: 'custom', path: ['workingHours', i, 'end'], message: 'must be after start', input: h.end });
        if (s < previousEnd) ctx.issues.push({ code: 'custom', path: ['workingHours', i, 'start'], message: 'intervals must be sorted and must not overlap', input: h.start });
        previousEnd = e;
      });
      if (new Set(cal.workingDays).size !== cal.workingDays.length) ctx.issues.push({ code: 'custom', params: { code: 'duplicate' }, path: ['workingDays'], message: 'lists a day twice', input: cal.workingDays });
    }),
  );
/** The input of `crm.calendar.set`: a partial calendar (fields left out keep their current value). */
export type BusinessCalendarInput = z.input<typeof businessCalendarPatchSchema>;
