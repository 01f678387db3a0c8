/** What a field holds in time: an instant (stored `2026-01-10T09:00:00.000Z`) or a day (`2026-01-10`). */
export type TimeKind = 'instant' | 'day';

/** The time a built-in field holds, by its name (`dueAt`, `rottingSince`: instants; `expectedCloseDate`: a day); custom fields are unknown. */
export const timeOfField = (field: string): TimeKind | undefined => (field.startsWith('custom.') ? undefined : /(At|Since)$/.test(field) ? 'instant' : /Date$/.test(field) ? 'day' : undefined);

/** Text that means a time: it starts with a date (`YYYY-MM-DD`), alone or followed by `T`. */
const LOOKS = /^\d{4}-\d\d-\d\d(T|$)/;
/** An ISO-8601 date-time with `Z` or an offset (its date and range are checked apart). */
const DATE_TIME = /^(\d{4}-\d\d-\d\d)T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;
/** The stored form of a time in UTC years 0000–9999, or `undefined` (`Date` rolls 02-30 over to March: refused). */
const stored = (value: string, day: string): string | undefined => {
  const ms = Date.parse(value);
  const iso = ms === ms ? new Date(ms).toISOString() : '';
  return /^\d{4}-/.test(iso) && new Date(Date.parse(day)).toISOString().startsWith(day) ? iso : undefined;
};
const FORMS = 'a day as YYYY-MM-DD, an instant as 2026-01-10T09:00:00.000Z (ISO-8601, Z or an offset)';

/**
 * A comparison value in the form times are stored, so that it compares as the time it names (stored times
 * compare as text): an instant becomes `toISOString()` (`…T09:00:00.000Z`), a day stays `YYYY-MM-DD`.
 * Only values of a time field (`kind`) or ordering bounds (`ordering`) that look like a time are judged;
 * anything else is returned as given. `problem`: why the value names no time the field can hold
 * (`2026-13-45`, `2026-01-05T9`, a day where an instant is stored for `eq`, an instant where a day is).
 */
export function canonicalTime(value: unknown, kind: TimeKind | undefined, ordering: boolean): { readonly value: unknown; readonly problem?: string } {
  if (typeof value !== 'string' || !LOOKS.test(value) || (!kind && !ordering)) return { value };
  const day = !value.includes('T');
  const iso = day ? stored(value, value) : DATE_TIME.test(value) && stored(value, value.slice(0, 10));
  // A day orders against instants (from its start, UTC); it never equals one, nor an instant a day.
  const why = !iso ? 'is no time' : day ? kind === 'instant' && !ordering && 'is a day, the field holds instants' : kind === 'day' && 'is an instant, the field holds days';
  return why ? { value, problem: `${JSON.stringify(value)} ${why}: give ${FORMS}` } : { value: day ? value : iso };
}
