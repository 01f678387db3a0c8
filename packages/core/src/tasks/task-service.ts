import { readByExternalRef, upsertByExternalRef, type ExternalRefTarget, type UpsertOptions, type UpsertResult } from '../crm/external-ref-api.js';
import { loadCalendar } from './calendar-cache.js';
import * as z from 'zod/mini';
import { produce } from '../domain/draft.js';
import { ruleViolation, validationError } from '../errors/crm-error.js';
import { checkedTimestamp, later, toTimestamp } from '../domain/clock.js';
import { compact, diffRecords, reviseRecord } from '../domain/records.js';
import { localIsoDate, parseIsoDate, startOfLocalDay } from '../domain/calendar/zoned-time.js';
import type { TaskDraft } from '../domain/tasks/task-draft.js';
import { RECURRENCE_NEEDS_FEATURE } from '../domain/tasks/recurrence-rules.js';
import { templateDueAt } from '../domain/tasks/task-due.js';
import { applyDeadline, dateIssues, postponesLater, taskDeadline } from '../domain/tasks/task-deadline.js';
import type { Deal } from '../schema/deal.js';
import type { Pipeline } from '../schema/pipeline.js';
import { LIMITS, optionalText, timestampInputSchema, userIdSchema } from '../schema/primitives.js';
import {
  nextStepInputSchema,
  taskCreateInputSchema,
  taskUpdateInputSchema,
  type NextStepInput,
  type Task,
  type TaskCreateInput,
} from '../schema/task.js';
import { taskTypeSchema, type TaskTypeDefinition, type TaskTypeInput } from '../schema/task-type.js';
import type { TaskField } from '../storage/crm-schema.js';
import { touchRecords } from '../crm/touch-records.js';
import { bumpConfigRevision } from '../crm/config-revision.js';
import type { CrmContext, SettingRecord } from '../crm/context.js';
import { moveIn } from '../funnel/funnel-service.js';
import { listRecords, scopedAggregate, type ListOptions, type Page } from '../crm/list-options.js';
import { readRecord, runRead, runWrite, type Operation } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import { checkReferences } from '../crm/references.js';
import { buildTasks, checkCallerTasks, insertTasks, nextStepOwner, openTasksOf, postponedTask, rearmNotices, taskRefs, withNextStep } from './task-writer.js';
import { loadTaskTypes } from './task-types.js';
import { agendaSchema, readAgenda, type Agenda, type AgendaOptions } from './agenda.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import { inputFields } from '../crm/input-fields.js';

/** What completing a task produced. */
export interface CompleteTaskResult {
  readonly task: Task;
  /** Tasks created by the completion: the next occurrence, an automatic chained task, the given `next`. */
  readonly created: Task[];
  /** A chained next step to confirm (task types with `chain.mode: 'suggest'`). */
  readonly suggestion?: NextStepInput;
}


const completeSchema = z.strictObject({ outcome: optionalText(LIMITS.mediumText), next: z.optional(nextStepInputSchema), version: versionOptionSchema });
const postponeSchema = z.strictObject({ until: timestampInputSchema, reason: optionalText(LIMITS.mediumText), version: versionOptionSchema });
const cancelSchema = z.strictObject({ reason: optionalText(LIMITS.mediumText), series: z.optional(z.boolean()), version: versionOptionSchema });
const updateSchema = taskUpdateInputSchema;
const workloadSchema = z.strictObject({ from: timestampInputSchema, to: timestampInputSchema, ownerIds: z.optional(z.array(userIdSchema).check(z.maxLength(500))) });

export type { Agenda, AgendaOptions } from './agenda.js';

/** One owner's load. */
export interface Workload {
  readonly ownerId: string;
  readonly open: number;
  readonly overdue: number;
  /** Open tasks due inside the window. */
  readonly due: number;
  /** Tasks completed inside the window. */
  readonly done: number;
}

/** Completing, cancelling or moving tasks must not leave an open deal of a strict pipeline without a next step. */
async function syncDeal(op: Operation, task: Task, openAfter: (open: Task[]) => Task[], touched: boolean): Promise<void> {
  if (!task.dealId) return;
  const deal = await op.get<Deal>('deal', task.dealId);
  if (!deal) return;
  const remaining = openAfter(await openTasksOf(op, deal.id));
  if (deal.status === 'open' && remaining.length === 0) {
    const pipeline = await op.get<Pipeline>('pipeline', deal.pipelineId);
    if (pipeline?.settings.strictNextStep) {
      throw ruleViolation([{ rule: 'strict.nextStepRequired', message: 'strict pipeline: the deal would have no open task left; give a next step', data: { dealId: deal.id } }]);
    }
  }
  let next = withNextStep(deal, remaining);
  if (touched) {
    next = produce(next, (d) => {
      d.lastActivityAt = later(d.lastActivityAt, op.now);
      delete d.rottingSince;
    });
  }
  if (next !== deal) await op.update('deal', deal, { ...next, version: deal.version + 1, updatedAt: op.now });
}

/** The chained next step of a completed task's type, if any. */
async function chainedStep(op: Operation, task: Task): Promise<{ draft: NextStepInput; auto: boolean } | undefined> {
  const type = (await loadTaskTypes(op)).find((t) => t.key === task.type);
  if (!type?.chain) return undefined;
  const chain = type.chain;
  const calendar = await loadCalendar(op);
  const from = chain.from === 'deadline' ? (taskDeadline(task) ?? op.nowMs) : op.nowMs;
  const nextType = (await loadTaskTypes(op)).find((t) => t.key === chain.type);
  return {
    auto: chain.mode === 'auto',
    draft: compact({
      subject: chain.subject ?? nextType?.label ?? chain.type,
      type: chain.type,
      dueAt: checkedTimestamp(templateDueAt(chain.delay, from, calendar), 'tasks.complete', 'taskTypes', task.type, 'chain', 'delay'),
      ownerId: task.ownerId,
      reminders: nextType?.reminders,
    }) as NextStepInput,
  };
}

/**
 * The next occurrence of the series `task` belongs to, when ending it (completion, cancellation)
 * must continue the series. Without the scheduler feature a series cannot continue: the call is
 * refused rather than ending the series silently.
 */
function continueSeries(op: Operation, task: Task): TaskDraft | undefined {
  if (!task.recurrence || task.recurrence.spawned || task.recurrence.stopped) return undefined;
  const rules = op.ctx.hooks.recurrence;
  if (!rules) {
    throw ruleViolation([{ rule: 'recurrence.featureMissing', message: RECURRENCE_NEEDS_FEATURE, data: { taskId: task.id, seriesId: task.recurrence.seriesId } }]);
  }
  return rules.nextOccurrence(task);
}

function links(task: Task): Pick<TaskDraft, 'dealId' | 'contactId' | 'companyId' | 'leadId'> {
  return compact({ dealId: task.dealId, contactId: task.contactId, companyId: task.companyId, leadId: task.leadId });
}

/** Applies a parsed patch to a task inside an operation (`tasks.update`, upserts). */
async function updateTaskIn(op: Operation, taskId: string, parsed: z.output<typeof updateSchema>): Promise<Task> {
  const task = await op.requireFor<Task>('task', taskId, 'update');
  assertExpectedVersion('task', task, parsed.version);
  op.guard?.checkWriteFields('task', inputFields('task', parsed), 'tasks.update');
  const following = parsed.scope === 'following';
  if (parsed.recurrence !== undefined && !following) {
    throw validationError('tasks.update', [{ path: ['recurrence'], code: 'invalid_value', message: 'a new rule applies to the series: use scope "following"' }]);
  }
  if (following && !task.recurrence && parsed.recurrence === undefined) {
    throw validationError('tasks.update', [{ path: ['scope'], code: 'invalid_value', message: 'the task is not recurring' }]);
  }
  if (parsed.recurrence !== undefined) {
    const rules = op.ctx.hooks.recurrence;
    const issues = rules ? rules.checkRule(parsed.recurrence) : [{ path: ['recurrence'], code: 'feature_required', message: RECURRENCE_NEEDS_FEATURE }];
    if (issues.length) throw validationError('tasks.update', issues);
  }
  if (parsed.dueDate && !(parsed.allDay ?? task.allDay)) {
    throw validationError('tasks.update', [{ path: ['dueDate'], code: 'invalid_value', message: 'only all-day tasks have dueDate; give dueAt' }]);
  }
  if (parsed.type) {
    const types = await loadTaskTypes(op);
    if (!types.some((t) => t.key === parsed.type)) throw validationError('tasks.update', [{ path: ['type'], code: 'invalid_value', message: 'unknown task type' }]);
  }
  const calendar = await loadCalendar(op);
  const next = reviseRecord(task, op.now, (d) => {
    const target = d as Record<string, unknown>;
    for (const key of ['subject', 'type', 'priority', 'reminders', 'required', 'allDay', 'dueAt'] as const) if (parsed[key] !== undefined) target[key] = parsed[key];
    for (const key of ['durationMinutes', 'ownerId', 'notes', 'externalRefs'] as const) {
      if (parsed[key] === null) delete target[key];
      else if (parsed[key] !== undefined) target[key] = parsed[key];
    }
    if (d.allDay) {
      // An all-day task is due on a local day: a new dueAt or dueDate moves it to that day in its zone.
      const zone = d.timezone ?? calendar.timezone;
      const date = parsed.dueDate ?? (parsed.dueAt ? localIsoDate(Date.parse(parsed.dueAt), zone) : undefined) ?? d.dueDate ?? (d.dueAt ? localIsoDate(Date.parse(d.dueAt), zone) : undefined);
      if (date) {
        const outside = dateIssues(date, zone);
        if (outside.length) throw validationError('tasks.update', outside);
        d.dueDate = date;
        d.dueAt = toTimestamp(startOfLocalDay(parseIsoDate(date), zone));
      }
    } else delete d.dueDate;
    if (d.recurrence) {
      if (!following && parsed.dueAt && !d.recurrence.occurrenceAt && task.dueAt) d.recurrence.occurrenceAt = task.dueAt;
      if (following) {
        const base = d.recurrence.base ?? { subject: task.subject, type: task.type, priority: task.priority, reminders: task.reminders };
        d.recurrence.base = compact({ ...base, subject: d.subject, type: d.type, ownerId: d.ownerId, priority: d.priority, durationMinutes: d.durationMinutes, reminders: d.reminders, notes: d.notes });
      }
    }
    if (following && (parsed.dueAt || parsed.recurrence !== undefined)) {
      // A new time or rule splits the series: this occurrence starts a new one.
      d.recurrence = compact({
        rule: (parsed.recurrence ?? task.recurrence!.rule).trim().replace(/^RRULE:/i, '').toUpperCase(),
        seriesId: op.newId('task'),
        index: 0,
        dtstart: d.dueAt!,
        base: d.recurrence?.base ?? compact({ subject: d.subject, type: d.type, ownerId: d.ownerId, priority: d.priority, durationMinutes: d.durationMinutes, reminders: d.reminders, notes: d.notes }),
      });
    }
    applyDeadline(d as Task);
    if (parsed.dueAt || parsed.dueDate || parsed.reminders || parsed.allDay !== undefined) rearmNotices(d as Task, op.now);
  });
  if (next === task) return task;
  if (!next.dueAt && next.recurrence) throw validationError('tasks.update', [{ path: ['dueAt'], code: 'required', message: 'a recurring task needs a due time' }]);
  op.guard?.checkWritten('task', 'update', task, next);
  await op.update('task', task, next);
  op.record('task.updated', { type: 'task', id: task.id }, { changes: diffRecords(task, next, ['notifiedUntil', 'nextNotifyAt']) }, taskRefs(next));
  if (next.dueAt !== task.dueAt) await syncDeal(op, next, (open) => open, false);
  return next;
}

/** Creates a task from parsed input inside an operation (`tasks.create`, upserts). */
async function createTaskIn(op: Operation, parsed: z.output<typeof taskCreateInputSchema>): Promise<Task> {
  op.guard?.checkWriteFields('task', inputFields('task', parsed), 'tasks.create');
  await checkReferences(op, 'tasks.create', [
    { entity: 'deal', id: parsed.dealId, path: ['dealId'] },
    { entity: 'contact', id: parsed.contactId, path: ['contactId'] },
    { entity: 'company', id: parsed.companyId, path: ['companyId'] },
    { entity: 'lead', id: parsed.leadId, path: ['leadId'] },
  ]);
  const types = await loadTaskTypes(op);
  const type = types.find((t) => t.key === (parsed.type ?? 'todo'));
  if (!type) throw validationError('tasks.create', [{ path: ['type'], code: 'invalid_value', message: `unknown task type; define it with crm.tasks.defineType (known: ${types.map((t) => t.key).join(', ')})` }]);
  const { id, ...fields } = parsed;
  const draft = { ...fields, ownerId: parsed.ownerId ?? op.ctx.actor?.userId, reminders: parsed.reminders ?? type.reminders } as TaskDraft;
  const [task] = await buildTasks(op, [draft], 'tasks.create');
  const record = id || parsed.externalRefs ? { ...task!, ...(id ? { id } : {}), ...(parsed.externalRefs ? { externalRefs: parsed.externalRefs } : {}) } : task!;
  op.guard?.checkWritten('task', 'create', undefined, record);
  await insertTasks(op, [record]);
  await syncDeal(op, record, (open) => open, false);
  return record;
}

/** How `upsertByExternalRef` creates and updates tasks. */
const TASK_REFS: ExternalRefTarget<Task> = {
  entity: 'task',
  name: 'tasks',
  parseCreate: (input, context) => parseInput(taskCreateInputSchema, input, context),
  create: (op, parsed) => createTaskIn(op, parsed as z.output<typeof taskCreateInputSchema>),
  updateSchema,
  update: (op, id, patch) => updateTaskIn(op, id, patch),
};

/**
 * Tasks: planned calls, meetings, e-mails and to-dos, with reminders, recurrence, chaining and the
 * agenda. `crm.tasks`.
 */
export class TaskService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Plans a task. Without `ownerId` it belongs to the acting user; its type's default reminders apply.
   *
   * @example
   * await crm.tasks.create({ subject: 'Call Ada', type: 'call', dueAt: '2026-03-03T10:00:00+01:00', dealId: deal.id, reminders: [15] });
   * await crm.tasks.create({ subject: 'Weekly check-in', type: 'meeting', dueAt: '2026-03-02T09:00:00Z', recurrence: 'FREQ=WEEKLY;BYDAY=MO;COUNT=10' });
   */
  async create(input: TaskCreateInput): Promise<Task> {
    const parsed = parseInput(taskCreateInputSchema, input, 'tasks.create');
    return runWrite(this.ctx, (op) => createTaskIn(op, parsed));
  }

  /** Reads a task. @throws CrmError `NOT_FOUND`. */
  get(id: string): Promise<Task> {
    return readRecord<Task>(this.ctx, 'task', id, 'tasks.get');
  }

  /** Lists tasks (by due time by default). */
  async list(options?: ListOptions<TaskField>): Promise<Page<Task>> {
    return runRead(this.ctx, (op) => listRecords<Task>(op, 'task', options, 'tasks.list', [{ field: 'dueAt' }]));
  }

  /**
   * Marks a task done with an outcome. Completing restarts the linked deal's rotting clock, creates
   * the next occurrence of a series, and chains the next task of the type (created or suggested).
   * In a strict pipeline the deal must keep an open task: pass `next` when this was the last.
   */
  async complete(id: string, options: { outcome?: string; next?: NextStepInput; version?: number } = {}): Promise<CompleteTaskResult> {
    const taskId = parseId(id, 'tasks.complete');
    const parsed = parseInput(completeSchema, options, 'tasks.complete');
    return runWrite(this.ctx, async (op) => {
      const task = await op.requireFor<Task>('task', taskId, 'update');
      assertExpectedVersion('task', task, parsed.version);
      if (task.status !== 'open') throw ruleViolation([{ rule: 'task.notOpen', message: `the task is ${task.status}`, data: { status: task.status } }]);
      const drafts: TaskDraft[] = [];
      const occurrence = continueSeries(op, task);
      if (occurrence) drafts.push(occurrence);
      const chained = await chainedStep(op, task);
      if (chained?.auto) drafts.push({ ...chained.draft, ...links(task), previousTaskId: task.id } as TaskDraft);
      if (parsed.next) drafts.push({ ...parsed.next, ...links(task), ownerId: parsed.next.ownerId ?? nextStepOwner(op, task.ownerId), previousTaskId: task.id } as TaskDraft);
      const created = await buildTasks(op, drafts, 'tasks.complete', ['next']);
      // The next step is the caller's: tasks.create's checks apply (series and chained tasks follow the task's own rules).
      if (parsed.next) checkCallerTasks(op, parsed.next, created.slice(-1), 'tasks.complete');
      const done = reviseRecord(task, op.now, (d) => {
        d.status = 'done';
        d.completedAt = op.now;
        if (parsed.outcome) d.outcome = parsed.outcome;
        if (d.recurrence) d.recurrence.spawned = true;
        delete d.nextNotifyAt;
      });
      await syncDeal(op, task, (open) => [...open.filter((t) => t.id !== task.id), ...created.filter((t) => t.dealId === task.dealId)], true);
      await touchRecords(op, { contactId: task.contactId, companyId: task.companyId }, op.now);
      await op.update('task', task, done);
      op.record('task.completed', { type: 'task', id: task.id }, compact({ task: done, outcome: parsed.outcome }), taskRefs(task));
      await insertTasks(op, created);
      return compact({ task: done, created, suggestion: chained && !chained.auto ? chained.draft : undefined });
    });
  }

  /**
   * Moves a task to a later time with a reason; postponements are counted. The next-step task of an
   * open deal is postponed through the funnel (`crm.deals.postpone`), so the deal's counts follow.
   */
  async postpone(id: string, options: { until: string; reason?: string; version?: number }): Promise<Task> {
    const taskId = parseId(id, 'tasks.postpone');
    const parsed = parseInput(postponeSchema, options, 'tasks.postpone');
    return runWrite(this.ctx, async (op) => {
      const task = await op.requireFor<Task>('task', taskId, 'update');
      assertExpectedVersion('task', task, parsed.version);
      if (task.status !== 'open') throw ruleViolation([{ rule: 'task.notOpen', message: `the task is ${task.status}`, data: { status: task.status } }]);
      const deal = task.dealId ? await op.get<Deal>('deal', task.dealId) : undefined;
      if (deal?.status === 'open') {
        await moveIn(op, deal.id, compact({ type: 'postpone' as const, until: parsed.until, reason: parsed.reason, taskId: task.id }), undefined, undefined);
        return op.require<Task>('task', task.id);
      }
      if (parsed.until <= op.now || !postponesLater(task, Date.parse(parsed.until))) {
        throw ruleViolation([{ rule: 'postpone.notLater', message: 'postpone to a later time than now and the current due time', data: { until: parsed.until } }]);
      }
      const moved = postponedTask(task, parsed.until, parsed.reason, op.now, 'tasks.postpone');
      await op.update('task', task, moved);
      op.record('task.postponed', { type: 'task', id: task.id }, compact({ from: task.dueAt, to: parsed.until, reason: parsed.reason, count: moved.postponeCount }), taskRefs(task));
      return moved;
    });
  }

  /**
   * Cancels a task. A cancelled occurrence of a series lets the series go on, unless `series: true`
   * ends it. In a strict pipeline the deal must keep an open task.
   */
  async cancel(id: string, options: { reason?: string; series?: boolean; version?: number } = {}): Promise<Task> {
    const taskId = parseId(id, 'tasks.cancel');
    const parsed = parseInput(cancelSchema, options, 'tasks.cancel');
    return runWrite(this.ctx, async (op) => {
      const task = await op.requireFor<Task>('task', taskId, 'update');
      assertExpectedVersion('task', task, parsed.version);
      if (task.status !== 'open') throw ruleViolation([{ rule: 'task.notOpen', message: `the task is ${task.status}`, data: { status: task.status } }]);
      const occurrence = parsed.series ? undefined : continueSeries(op, task);
      const created = occurrence ? await buildTasks(op, [occurrence], 'tasks.cancel') : [];
      const cancelled = reviseRecord(task, op.now, (d) => {
        d.status = 'cancelled';
        d.cancelledAt = op.now;
        if (d.recurrence) d.recurrence.spawned = true;
        delete d.nextNotifyAt;
      });
      await syncDeal(op, task, (open) => [...open.filter((t) => t.id !== task.id), ...created.filter((t) => t.dealId === task.dealId)], false);
      await op.update('task', task, cancelled);
      op.record('task.cancelled', { type: 'task', id: task.id }, compact({ reason: parsed.reason }), taskRefs(task));
      await insertTasks(op, created);
      return cancelled;
    });
  }

  /**
   * Reads the task linked to a record of another system.
   *
   * @param system The other system (`shop`, `erp`).
   * @param id The record's id there.
   * @returns The task.
   * @throws CrmError `VALIDATION` for a malformed system or id; `NOT_FOUND` when no task holds the
   *   ref (or, in a view, it lies outside the read scope).
   * @example
   * const found = await crm.tasks.getByExternalRef('shop', '10042');
   */
  async getByExternalRef(system: string, id: string): Promise<Task> {
    return readByExternalRef<Task>(this.ctx, 'task', 'tasks', system, id);
  }

  /**
   * Creates the task linked to `(system, id)` with `input`, or updates the one that exists, in one
   * transaction; idempotent on retry (see `upsertByExternalRef`).
   *
   * @returns The record and whether it was `created`, `updated` or `unchanged`.
   * @throws CrmError `VALIDATION`, `CONFLICT` (`expectedVersion` differs), `NOT_FOUND`/`FORBIDDEN` in a view.
   */
  async upsertByExternalRef(system: string, id: string, input: TaskCreateInput, options?: UpsertOptions): Promise<UpsertResult<Task>> {
    return upsertByExternalRef(this.ctx, TASK_REFS, system, id, input, options);
  }

  /**
   * Changes a task. For a recurring task, `scope: 'this'` (default) changes this occurrence only;
   * `scope: 'following'` changes the series from here on (a new due time or rule starts a new series).
   */
  async update(id: string, patch: z.input<typeof updateSchema>): Promise<Task> {
    const taskId = parseId(id, 'tasks.update');
    const parsed = parseInput(updateSchema, patch, 'tasks.update');
    return runWrite(this.ctx, (op) => updateTaskIn(op, taskId, parsed));
  }

  /**
   * A manager's agenda: overdue open tasks (past their deadline, oldest first), then today's (in the
   * business calendar's zone; an all-day task stays here until its local day is over), then upcoming
   * until `to` (default a week after today). Every section is complete, unless `limit` asks for pages:
   * then each section holds at most `limit` tasks and `nextCursor`, while any section has more,
   * continues them all in the same window. `validUntil` is when the sections change by time alone.
   *
   * @example
   * const { overdue, today, upcoming } = await crm.tasks.agenda({ ownerId: 'anna' });
   * let page = await crm.tasks.agenda({ ownerId: 'anna', limit: 50 });
   * while (page.nextCursor) page = await crm.tasks.agenda({ ownerId: 'anna', limit: 50, cursor: page.nextCursor });
   * @throws CrmError `VALIDATION` for bad options or a cursor of another agenda; `FORBIDDEN` in a view
   *   that may not read a task's `status`, `dueAt` (or `deadlineAt`), or `ownerId` when it is given.
   */
  async agenda(options: AgendaOptions = {}): Promise<Agenda> {
    const parsed = parseInput(agendaSchema, options, 'tasks.agenda');
    return runRead(this.ctx, async (op) => readAgenda(op, parsed, await loadCalendar(op)));
  }

  /**
   * Load per owner: open, overdue, due in the window, done in the window. Counted in storage.
   *
   * @throws CrmError `FORBIDDEN` in a view that may not read a task's `ownerId`, `status`, `dueAt`
   *   (`deadlineAt`) or `completedAt`: the figures are made of them.
   */
  async workload(options: { from: string; to: string; ownerIds?: string[] }): Promise<Workload[]> {
    const parsed = parseInput(workloadSchema, options, 'tasks.workload');
    return runRead(this.ctx, async (op) => {
      const owners = parsed.ownerIds ? [{ op: 'in' as const, field: 'ownerId', values: parsed.ownerIds }] : [];
      const count = async (filters: { op: 'eq' | 'lt' | 'gte' | 'in'; field: string; value?: unknown; values?: unknown[] }[]) => {
        // Per owner, by status and due times: in a view all of them must be readable.
        const rows = await scopedAggregate(op, 'task', { filter: { op: 'and', filters: [...owners, ...filters] as never }, groupBy: ['ownerId'], metrics: { n: { fn: 'count' } } }, 'tasks.workload');
        return new Map(rows.filter((r) => r.group.ownerId !== null).map((r) => [String(r.group.ownerId), r.values.n as number]));
      };
      const open = await count([{ op: 'eq', field: 'status', value: 'open' }]);
      const overdue = await count([{ op: 'eq', field: 'status', value: 'open' }, { op: 'lt', field: 'deadlineAt', value: op.now }]);
      const due = await count([{ op: 'eq', field: 'status', value: 'open' }, { op: 'gte', field: 'dueAt', value: parsed.from }, { op: 'lt', field: 'dueAt', value: parsed.to }]);
      const done = await count([{ op: 'eq', field: 'status', value: 'done' }, { op: 'gte', field: 'completedAt', value: parsed.from }, { op: 'lt', field: 'completedAt', value: parsed.to }]);
      const ids = new Set([...(parsed.ownerIds ?? []), ...open.keys(), ...done.keys()]);
      return [...ids].sort().map((ownerId) => ({ ownerId, open: open.get(ownerId) ?? 0, overdue: overdue.get(ownerId) ?? 0, due: due.get(ownerId) ?? 0, done: done.get(ownerId) ?? 0 }));
    });
  }

  /**
   * Defines (or redefines) a tenant task type, with default reminders and chaining.
   *
   * @example
   * await crm.tasks.defineType({ key: 'demo', label: 'Product demo', reminders: [60],
   *   chain: { type: 'email', subject: 'Send demo recording', delay: { amount: 1, unit: 'businessDays' }, mode: 'auto' } });
   */
  async defineType(input: TaskTypeInput): Promise<TaskTypeDefinition> {
    const parsed = parseInput(taskTypeSchema, input, 'tasks.defineType');
    return runWrite(this.ctx, async (op) => {
      op.guard?.require('setting', 'update');
      const [current] = await op.getMany<SettingRecord<TaskTypeDefinition[]>>('setting', ['taskTypes']);
      const list = [...(current?.value ?? []).filter((t) => t.key !== parsed.key), parsed].sort((a, b) => (a.key < b.key ? -1 : 1));
      const known = new Set([...(await loadTaskTypes(op)).map((t) => t.key), parsed.key]);
      if (parsed.chain && !known.has(parsed.chain.type)) {
        throw validationError('tasks.defineType', [{ path: ['chain', 'type'], code: 'invalid_value', message: `unknown task type "${parsed.chain.type}"` }]);
      }
      const record: SettingRecord<TaskTypeDefinition[]> = {
        id: 'taskTypes', tenantId: op.tenantId, key: 'taskTypes', value: list,
        version: (current?.version ?? 0) + 1, createdAt: current?.createdAt ?? op.now, updatedAt: op.now,
      };
      if (current) await op.update('setting', current, record);
      else await op.insert('setting', record);
      await bumpConfigRevision(op);
      return parsed;
    }, true);
  }

  /** The task types in effect: built-in (call, meeting, email, todo) and the tenant's own. */
  async listTypes(): Promise<TaskTypeDefinition[]> {
    return runRead(this.ctx, (op) => {
      op.guard?.require('setting', 'read');
      return loadTaskTypes(op);
    });
  }
}

