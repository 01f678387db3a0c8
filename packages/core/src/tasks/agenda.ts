import * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
import { zonedParts, zonedToInstant } from '../domain/calendar/zoned-time.js';
import type { BusinessCalendar } from '../domain/calendar/business-calendar.js';
import { decodeOpaque, encodeOpaque } from '../query/cursor.js';
import type { Filter } from '../query/query-spec.js';
import { int, LIMITS, timestampInputSchema, userIdSchema } from '../schema/primitives.js';
import type { Task } from '../schema/task.js';
import type { Operation } from '../crm/operation.js';

/** Options of `crm.tasks.agenda`. */
export interface AgendaOptions {
  /** Only this user's tasks (crmkit has no user table: an unknown user simply has none). */
  readonly ownerId?: string;
  /** Start of "today" and "upcoming" (default now; earlier values mean now). */
  readonly from?: string;
  /** End of "upcoming" (default a week after the end of today). */
  readonly to?: string;
  /** Tasks per section and page (1–1000). Without it every section is complete. */
  readonly limit?: number;
  /** `nextCursor` of the previous page: continues every section that has more, in the same window. */
  readonly cursor?: string;
}

/** A manager's day: overdue first, then today, then what comes next; each section by due time. */
export interface Agenda {
  readonly overdue: Task[];
  readonly today: Task[];
  readonly upcoming: Task[];
  /** Present exactly when a section has more tasks (only with `limit`): pass it as `cursor`. */
  readonly nextCursor?: string;
}

export const agendaSchema = z.strictObject({
  ownerId: z.optional(userIdSchema),
  from: z.optional(timestampInputSchema),
  to: z.optional(timestampInputSchema),
  limit: z.optional(z.number().check(int(), z.gte(1), z.lte(LIMITS.listLimit))),
  cursor: z.optional(z.string().check(z.maxLength(4096))),
});

type Section = 'overdue' | 'today' | 'upcoming';
const SECTIONS: readonly Section[] = ['overdue', 'today', 'upcoming'];

/** The window a page was cut in and where each section continues (`null`: done). */
interface AgendaPosition {
  readonly ownerId: string | null;
  readonly now: string;
  readonly from: string;
  readonly endOfToday: string;
  readonly to: string;
  readonly after: Readonly<Record<Section, string | null>>;
}

function invalidCursor(why: string) {
  return validationError('tasks.agenda', [{ path: ['cursor'], code: 'invalid_cursor', message: why }]);
}

function readPosition(cursor: string, ownerId: string | undefined): AgendaPosition {
  const p = decodeOpaque(cursor) as Partial<AgendaPosition> | undefined;
  const text = (v: unknown) => typeof v === 'string';
  const valid =
    p && typeof p === 'object' && (p.ownerId === null || text(p.ownerId)) && text(p.now) && text(p.from) && text(p.endOfToday) && text(p.to) &&
    p.after && typeof p.after === 'object' && SECTIONS.every((s) => p.after![s] === null || text(p.after![s]));
  if (!valid) throw invalidCursor('not a cursor of tasks.agenda');
  if ((p.ownerId ?? undefined) !== ownerId) throw invalidCursor('the cursor belongs to the agenda of another owner');
  return p as AgendaPosition;
}

/**
 * Reads an agenda: overdue open tasks, today's (in the calendar's zone) and upcoming until `to`, each
 * by due time. Complete without `limit`; with it, a page per section and a cursor that reaches the rest.
 */
export async function readAgenda(op: Operation, options: z.output<typeof agendaSchema>, calendar: BusinessCalendar): Promise<Agenda> {
  let position: AgendaPosition;
  if (options.cursor !== undefined) {
    position = readPosition(options.cursor, options.ownerId);
  } else {
    const p = zonedParts(op.nowMs, calendar.timezone);
    const endOfToday = new Date(zonedToInstant({ year: p.year, month: p.month, day: p.day + 1 }, calendar.timezone)).toISOString();
    position = {
      ownerId: options.ownerId ?? null,
      now: op.now,
      from: options.from && options.from > op.now ? options.from : op.now,
      endOfToday,
      to: options.to ?? new Date(Date.parse(endOfToday) + 7 * 86_400_000).toISOString(),
      after: { overdue: '', today: '', upcoming: '' },
    };
  }
  const { now, from, endOfToday, to } = position;
  const bounds: Record<Section, [lower: string | undefined, upper: string] | undefined> = {
    overdue: [undefined, now],
    today: from < endOfToday ? [from, endOfToday < to ? endOfToday : to] : undefined,
    upcoming: endOfToday < to ? [endOfToday > from ? endOfToday : from, to] : undefined,
  };
  const base: Filter[] = [{ op: 'eq', field: 'status', value: 'open' }, ...(position.ownerId ? [{ op: 'eq' as const, field: 'ownerId', value: position.ownerId }] : [])];
  const pages = {} as Record<Section, Task[]>;
  const after = {} as Record<Section, string | null>;
  for (const section of SECTIONS) {
    const range = bounds[section];
    const resume = position.after[section];
    if (!range || resume === null) {
      pages[section] = [];
      after[section] = null;
      continue;
    }
    const [lower, upper] = range;
    const filters: Filter[] = [...base, { op: 'lt', field: 'dueAt', value: upper }, ...(lower ? [{ op: 'gte' as const, field: 'dueAt', value: lower }] : [])];
    const page = await op.query<Task>('task', {
      // In a view, only the tasks the principal may read (the scope is pushed down to storage).
      filter: op.scoped('task', { op: 'and', filters }),
      sort: [{ field: 'dueAt' }],
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      ...(resume ? { after: resume } : {}),
    });
    pages[section] = page.rows;
    after[section] = page.nextCursor ?? null;
  }
  const more = SECTIONS.some((s) => after[s] !== null);
  return { ...pages, ...(more ? { nextCursor: encodeOpaque({ ...position, after }) } : {}) };
}
