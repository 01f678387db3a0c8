import * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
import { toTimestamp } from '../domain/clock.js';
import { zonedParts, zonedToInstant } from '../domain/calendar/zoned-time.js';
import type { BusinessCalendar } from '../domain/calendar/business-calendar.js';
import { decodeOpaque, encodeOpaque } from '../query/cursor.js';
import type { Filter } from '../query/query-spec.js';
import { int, LIMITS, timestampInputSchema, userIdSchema } from '../schema/primitives.js';
import type { Task } from '../schema/task.js';
import type { Operation } from '../crm/operation.js';
import { scopedQuery } from '../crm/list-options.js';

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

/** A manager's day: overdue first (by deadline), then today, then what comes next (by due time). */
export interface Agenda {
  readonly overdue: Task[];
  readonly today: Task[];
  readonly upcoming: Task[];
  /** When the sections change by time alone (a listed task becomes late, or the day ends): refresh then. */
  readonly validUntil: string;
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
 * Reads an agenda: overdue open tasks (past their `deadlineAt`: for all-day tasks the end of their
 * local day), today's (in the calendar's zone) and upcoming until `to`, by due time. Complete without
 * `limit`; with it, a page per section and a cursor that reaches the rest.
 */
export async function readAgenda(op: Operation, options: z.output<typeof agendaSchema>, calendar: BusinessCalendar): Promise<Agenda> {
  let position: AgendaPosition;
  if (options.cursor !== undefined) {
    position = readPosition(options.cursor, options.ownerId);
  } else {
    const p = zonedParts(op.nowMs, calendar.timezone);
    // On 9999-12-31 the day and the default window end at the last instant a timestamp holds.
    const endOfToday = toTimestamp(zonedToInstant({ year: p.year, month: p.month, day: p.day + 1 }, calendar.timezone));
    position = {
      ownerId: options.ownerId ?? null,
      now: op.now,
      from: options.from && options.from > op.now ? options.from : op.now,
      endOfToday,
      to: options.to ?? toTimestamp(Date.parse(endOfToday) + 7 * 86_400_000),
      after: { overdue: '', today: '', upcoming: '' },
    };
  }
  const { now, from, endOfToday, to } = position;
  // A task not yet late started its day at most 25 hours before its deadline: a bounded index range.
  const dayStartBound = toTimestamp(Date.parse(from) - 25 * 3_600_000);
  const todayEnd = endOfToday < to ? endOfToday : to;
  const sections: Record<Section, { filters: Filter[]; sort: 'dueAt' | 'deadlineAt' } | undefined> = {
    overdue: { filters: [{ op: 'lt', field: 'deadlineAt', value: now }], sort: 'deadlineAt' },
    today:
      from < endOfToday
        ? { filters: [{ op: 'gte', field: 'dueAt', value: dayStartBound }, { op: 'lt', field: 'dueAt', value: todayEnd }, { op: 'gte', field: 'deadlineAt', value: from }], sort: 'dueAt' }
        : undefined,
    upcoming:
      endOfToday < to ? { filters: [{ op: 'gte', field: 'dueAt', value: endOfToday > from ? endOfToday : from }, { op: 'lt', field: 'dueAt', value: to }], sort: 'dueAt' } : undefined,
  };
  const base: Filter[] = [{ op: 'eq', field: 'status', value: 'open' }, ...(position.ownerId ? [{ op: 'eq' as const, field: 'ownerId', value: position.ownerId }] : [])];
  const pages = {} as Record<Section, Task[]>;
  const after = {} as Record<Section, string | null>;
  for (const section of SECTIONS) {
    const spec = sections[section];
    const resume = position.after[section];
    if (!spec || resume === null) {
      pages[section] = [];
      after[section] = null;
      continue;
    }
    // In a view, only the tasks the principal may read (the scope is pushed down to storage), and only
    // with their status, owner (when asked for) and due times readable: the sections are made of them.
    const page = await scopedQuery<Task>(op, 'task', {
      filter: { op: 'and', filters: [...base, ...spec.filters] },
      sort: [{ field: spec.sort }],
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      ...(resume ? { after: resume } : {}),
    }, 'tasks.agenda');
    pages[section] = page.rows;
    after[section] = page.nextCursor ?? null;
  }
  const more = SECTIONS.some((s) => after[s] !== null);
  // The sections change by time alone when a listed task becomes late (the millisecond after its
  // deadline) or the day ends.
  // (A loop, not Math.min(...): a complete agenda may list more tasks than a call takes arguments.)
  let until = Date.parse(endOfToday);
  for (const t of [...pages.today, ...pages.upcoming]) if (t.deadlineAt) until = Math.min(until, Date.parse(t.deadlineAt) + 1);
  const validUntil = toTimestamp(until);
  return { ...pages, validUntil, ...(more ? { nextCursor: encodeOpaque({ ...position, after }) } : {}) };
}
