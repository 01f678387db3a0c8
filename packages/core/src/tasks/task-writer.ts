import { loadCalendar } from './calendar-cache.js';
import { produce } from '../domain/draft.js';
import { isCrmError, validationError } from '../errors/crm-error.js';
import { toTimestamp } from '../domain/clock.js';
import { buildTask } from '../domain/tasks/build-task.js';
import type { TaskDraft } from '../domain/tasks/task-draft.js';
import { newRecordBase, reviseRecord } from '../domain/records.js';
import { nextNoticeAt } from '../domain/tasks/notices.js';
import { applyDeadline, dateIssues } from '../domain/tasks/task-deadline.js';
import { localIsoDate, parseIsoDate, startOfLocalDay } from '../domain/calendar/zoned-time.js';
import type { Deal } from '../schema/deal.js';
import type { RecordBase } from '../schema/record.js';
import type { Task } from '../schema/task.js';
import { runWrite, type EventRef, type Operation } from '../crm/operation.js';
import type { CrmContext } from '../crm/context.js';
import { inputFields } from '../crm/input-fields.js';
import { insertMany, withParentAccess } from '../crm/feature-writes.js';

/** The records whose timelines show a task's events. */
export function taskRefs(task: Pick<Task, 'dealId' | 'contactId' | 'companyId' | 'leadId'>): EventRef[] {
  const refs: EventRef[] = [];
  if (task.dealId) refs.push({ type: 'deal', id: task.dealId });
  if (task.contactId) refs.push({ type: 'contact', id: task.contactId });
  if (task.companyId) refs.push({ type: 'company', id: task.companyId });
  if (task.leadId) refs.push({ type: 'lead', id: task.leadId });
  return refs;
}

/**
 * Builds task records from drafts (defaults, all-day, recurrence), reporting problems under `path`.
 * Nothing is written.
 */
export async function buildTasks(
  op: Operation,
  drafts: readonly TaskDraft[],
  context: string,
  path: (string | number)[] = [],
  /** Parent records not stored yet (a deal created in this operation), whose owner and shares the tasks copy. */
  known: readonly RecordBase[] = [],
): Promise<Task[]> {
  const calendar = await loadCalendar(op);
  const tasks = drafts.map((draft, i) => {
    const { task, issues } = buildTask(newRecordBase(op.newId('task'), op.tenantId, op.now), draft, calendar, () => op.newId('task'), op.ctx.hooks.recurrence);
    if (!task) throw validationError(context, issues.map((issue) => ({ ...issue, path: [...path, ...(drafts.length > 1 ? [i] : []), ...issue.path] })));
    return task;
  });
  return withParentAccess(op, tasks, known);
}

/**
 * The owner of a task a caller asked for without naming one (a next step): the record's owner, or —
 * in a view whose task create scope leaves that owner out (a deal shared for writing) — the acting user.
 */
export function nextStepOwner(op: Operation, natural: string | undefined): string | undefined {
  const owners = op.guard?.ownersFor('task', 'create');
  if (!owners || natural === undefined || owners.includes(natural)) return natural;
  return op.guard!.principal.userId;
}

/**
 * Tasks a caller asked for (next steps of `tasks.complete`, `deals.create/advance/…`, `leads.convert`)
 * face `tasks.create`'s checks in a view: the fields it may write and its create scope on the owner.
 *
 * @throws CrmError `FORBIDDEN` naming the fields, or the owner outside the create scope.
 */
export function checkCallerTasks(op: Operation, input: object, tasks: readonly Task[], context: string): void {
  if (!op.guard) return;
  op.guard.checkWriteFields('task', inputFields('task', input), context);
  for (const task of tasks) op.guard.checkWritten('task', 'create', undefined, task);
}

/** Writes new tasks and records `task.created` for each. */
export async function insertTasks(op: Operation, tasks: readonly Task[]): Promise<void> {
  await insertMany(op, 'task', tasks);
  for (const task of tasks) op.record('task.created', { type: 'task', id: task.id }, { task }, taskRefs(task));
}

/** Open tasks of a deal. */
export async function openTasksOf(op: Operation, dealId: string): Promise<Task[]> {
  const { rows } = await op.query<Task>('task', {
    filter: { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: dealId }, { op: 'eq', field: 'status', value: 'open' }] },
    sort: [{ field: 'dueAt' }],
  });
  return rows;
}

/**
 * A task moved to a later due time: counted, with the reason, notices re-armed for the new time.
 * A recurring occurrence remembers its scheduled time so the series keeps its rhythm.
 *
 * @throws CrmError `VALIDATION` of `context` (path `until`) when an all-day task's new day is outside years 0000–9999.
 */
export function postponedTask(task: Task, until: string, reason: string | undefined, now: string, context: string): Task {
  return reviseRecord(task, now, (d) => {
    if (d.recurrence && !d.recurrence.occurrenceAt && task.dueAt) d.recurrence.occurrenceAt = task.dueAt;
    if (task.allDay) {
      // An all-day task moves to the day of `until` in its zone.
      const zone = task.timezone ?? 'UTC';
      const date = localIsoDate(Date.parse(until), zone);
      const outside = dateIssues(date, zone, 'until');
      if (outside.length) throw validationError(context, outside);
      d.dueDate = date;
      d.dueAt = toTimestamp(startOfLocalDay(parseIsoDate(date), zone));
    } else d.dueAt = until;
    applyDeadline(d as Task);
    d.postponeCount = task.postponeCount + 1;
    if (reason) d.lastPostponeReason = reason;
    rearmNotices(d as Task, now);
  });
}

/** Resets a task's scheduler watermark after its schedule changed: notices from `now` on apply. */
export function rearmNotices(draft: Task, now: string): void {
  const mutable = draft as { notifiedUntil?: string; nextNotifyAt?: string };
  mutable.notifiedUntil = now;
  const next = nextNoticeAt(draft, Date.parse(now));
  if (next === undefined) delete mutable.nextNotifyAt;
  else mutable.nextNotifyAt = toTimestamp(next);
}

/** Sets `nextStepDueAt` to the earliest due time among a deal's open tasks (no version bump: callers write the deal). */
export function withNextStep(deal: Deal, openTasks: readonly Pick<Task, 'dueAt' | 'status'>[]): Deal {
  const due = openTasks
    .filter((t) => t.status === 'open' && t.dueAt)
    .map((t) => t.dueAt!)
    .sort()[0];
  if (due === deal.nextStepDueAt) return deal;
  return produce(deal, (draft) => {
    if (due) draft.nextStepDueAt = due;
    else delete draft.nextStepDueAt;
  });
}

/**
 * Gives open tasks stored before `deadlineAt` existed their deadline, a batch per transaction, so
 * "overdue" queries see them. Runs when a crm starts; with nothing to do it costs one indexed query.
 * A concurrent writer (another process doing the same) wins: its version stands and this stops.
 */
export async function backfillTaskDeadlines(ctx: CrmContext): Promise<number> {
  let total = 0;
  for (;;) {
    let changed: number;
    try {
      changed = await runWrite(ctx, async (op) => {
        const { rows } = await op.query<Task>('task', {
          filter: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'open' }, { op: 'eq', field: 'deadlineAt', value: null }, { op: 'gt', field: 'dueAt', value: '' }] },
          limit: 500,
        });
        for (const task of rows) await op.update('task', task, reviseRecord(task, op.now, (d) => applyDeadline(d as Task)));
        return rows.length;
      });
    } catch (error) {
      if (isCrmError(error, 'CONFLICT')) return total;
      throw error;
    }
    total += changed;
    if (changed < 500) return total;
  }
}
