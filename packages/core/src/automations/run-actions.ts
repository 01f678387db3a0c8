import { CrmError } from '../errors/crm-error.js';
import { addBusinessDays, addCalendarDays } from '../domain/calendar/business-calendar.js';
import { templateDueAt } from '../domain/tasks/task-due.js';
import { checkedTimestamp } from '../domain/clock.js';
import type { Crm } from '../crm/crm.js';
import type { Operation } from '../crm/operation.js';
import type { RecordBase } from '../schema/record.js';
import type { CrmEventName } from '../events/event-map.js';
import { DEFAULT_CALENDAR, type BusinessCalendar } from '../domain/calendar/business-calendar.js';
import { settingCache } from '../crm/setting-cache.js';
import type { ActionOutcome, AutomationAction, Duration } from './automation-schema.js';

/** The tenant's business calendar (the cache the tasks feature reads too: one per crm, same setting key). */
export function loadCalendar(op: Operation): Promise<BusinessCalendar> {
  return settingCache<BusinessCalendar>(op.ctx, 'calendar', DEFAULT_CALENDAR).load(op.tx, op.tenantId);
}

/** The service of each record type a rule can act on. */
export const SERVICE_OF: Readonly<Record<string, string>> = { lead: 'leads', contact: 'contacts', company: 'companies', deal: 'deals', task: 'tasks', activity: 'activities' };

type Rec = { readonly id: string; readonly ownerId?: string; readonly tags?: readonly string[]; readonly [field: string]: unknown };
interface RecordService {
  get(id: string): Promise<Rec>;
  update?(id: string, patch: Record<string, unknown>): Promise<Rec>;
}

/** The crm (a view acting for the service principal, inside the run's transaction) as the actions use it. */
type ActingCrm = Crm & Readonly<Record<string, unknown>>;

/** The service of a record type in `crm`; `VALIDATION` when the crm lacks the feature that provides it. */
export function serviceOf(crm: ActingCrm, type: string): RecordService {
  const service = crm[SERVICE_OF[type] ?? ''] as RecordService | undefined;
  if (!service) throw new CrmError('VALIDATION', `automations: no service for "${type}" records (add its feature)`, { issues: [{ path: ['trigger'], code: 'invalid_value', message: `no service for ${type}` }] });
  return service;
}

/** The links a task or activity created for a record gets (a deal's contact and company too). */
export function linksOf(type: string, record: Rec): Record<string, string> {
  const out: Record<string, string> = {};
  const copy = (key: string) => {
    if (typeof record[key] === 'string') out[key] = record[key] as string;
  };
  if (type === 'deal' || type === 'lead' || type === 'contact' || type === 'company') out[`${type}Id`] = record.id;
  for (const key of ['dealId', 'contactId', 'companyId', 'leadId']) if (!out[key]) copy(key);
  return out;
}

/**
 * The timeline refs of a run's `automation.ran` entry: its rule and the records the subject links to.
 * Without the subject as the run read it (a failed or cancelled run), the stored record gives the links.
 */
export async function runRefs(op: Operation, ruleId: string, subject: { readonly type: string; readonly id: string }, record?: Readonly<Record<string, unknown>>) {
  const read = record ?? (await op.get<Rec & RecordBase>(subject.type, subject.id));
  return [{ type: 'automationRule', id: ruleId }, ...Object.entries(linksOf(subject.type, { ...read, id: subject.id })).map(([key, id]) => ({ type: key.slice(0, -2), id }))];
}

/** `fromMs` plus a duration: elapsed minutes/hours, calendar days or business days of the tenant's calendar. */
export async function addDuration(op: Operation, fromMs: number, duration: Duration, sign: 1 | -1 = 1): Promise<number> {
  if (duration.unit === 'minutes') return fromMs + sign * duration.amount * 60_000;
  if (duration.unit === 'hours') return fromMs + sign * duration.amount * 3_600_000;
  const calendar = await loadCalendar(op);
  const n = sign * duration.amount;
  return duration.unit === 'days' ? addCalendarDays(calendar, fromMs, n) : addBusinessDays(calendar, fromMs, n);
}

/** Where a run stands while its actions execute. */
export interface ActionRun {
  /** The service principal's view, bound to the run's transaction. */
  readonly crm: ActingCrm;
  /** The run's own operation in the same transaction (custom events, calendar, assignment strategies). */
  readonly op: Operation;
  readonly subject: { readonly type: string; readonly id: string };
  readonly ruleId: string;
  readonly runId: string;
}

/**
 * Executes one action through the normal services (so validation, funnel rules and the service
 * principal's access apply). Returns what it did; throws the service's `CrmError` when it fails.
 */
export async function runAction(run: ActionRun, action: Exclude<AutomationAction, { type: 'wait' }>): Promise<ActionOutcome> {
  const { crm, op, subject } = run;
  const service = serviceOf(crm, subject.type);
  const current = () => service.get(subject.id);
  const update = async (patch: Record<string, unknown>) => {
    if (!service.update) throw new CrmError('VALIDATION', `automations: ${subject.type} records cannot be updated`, { issues: [{ path: ['actions'], code: 'invalid_value', message: `${subject.type} records cannot be updated` }] });
    return service.update(subject.id, patch);
  };
  const ref = `${subject.type}:${subject.id}`;
  switch (action.type) {
    case 'createTask': {
      const record = await current();
      const template = action.task;
      const assignee = template.assignee ?? { kind: 'dealOwner' as const };
      let ownerId = record.ownerId;
      if (assignee.kind === 'user') ownerId = assignee.userId;
      const assignment = op.ctx.hooks.assignment;
      if (assignee.kind === 'strategy' && assignment) ownerId = (await assignment.resolveOwner(op, assignee.strategyId, record))?.ownerId ?? record.ownerId;
      const dueAt = checkedTimestamp(templateDueAt(template.due, op.nowMs, await loadCalendar(op)), 'automations', 'task', 'due');
      const tasks = crm.tasks as { create(input: Record<string, unknown>): Promise<Rec> } | undefined;
      if (!tasks) throw new CrmError('VALIDATION', 'automations: creating a task needs the tasks() feature', { issues: [{ path: ['actions'], code: 'invalid_value', message: 'add tasks() to the features' }] });
      const task = await tasks.create({
        subject: template.subject, type: template.type, dueAt, ...linksOf(subject.type, record),
        ...(ownerId ? { ownerId } : {}), ...(template.priority ? { priority: template.priority } : {}), ...(template.required ? { required: true } : {}),
      });
      return { type: action.type, ref: `task:${task.id}`, detail: dueAt };
    }
    case 'updateFields':
      await update({ ...action.set });
      return { type: action.type, ref, detail: Object.keys(action.set).join(', ') };
    case 'assignOwner': {
      if (action.strategyId) {
        const assignment = crm.assignment as { assign(ref: { type: string; id: string }, strategyId: string): Promise<Rec> } | undefined;
        if (!assignment) throw new CrmError('VALIDATION', 'automations: assigning by strategy needs the assignment() feature', { issues: [{ path: ['actions'], code: 'invalid_value', message: 'add assignment() to the features' }] });
        const assigned = await assignment.assign(subject, action.strategyId);
        return { type: action.type, ref, ...(assigned.ownerId ? { detail: assigned.ownerId } : {}) };
      }
      await update({ ownerId: action.userId });
      return { type: action.type, ref, detail: action.userId! };
    }
    case 'addTag':
    case 'removeTag': {
      const tags = (await current()).tags ?? [];
      const next = action.type === 'addTag' ? (tags.includes(action.tag) ? tags : [...tags, action.tag]) : tags.filter((t) => t !== action.tag);
      if (next !== tags && next.length !== tags.length) await update({ tags: next });
      return { type: action.type, ref, detail: action.tag };
    }
    case 'advance': {
      const deal = await crm.deals.advance(subject.id, action.toStage ? { toStage: action.toStage } : {});
      return { type: action.type, ref, detail: deal.stageKey };
    }
    case 'lose': {
      await crm.deals.lose(subject.id, { reason: action.reason, ...(action.comment ? { comment: action.comment } : {}) });
      return { type: action.type, ref, detail: action.reason };
    }
    case 'logActivity': {
      const activities = crm.activities as { log(input: Record<string, unknown>): Promise<Rec> } | undefined;
      if (!activities) throw new CrmError('VALIDATION', 'automations: logging an activity needs the activities() feature', { issues: [{ path: ['actions'], code: 'invalid_value', message: 'add activities() to the features' }] });
      // An activity about a task fulfils it (`taskId`) and links where the task links.
      const activity = await activities.log({ ...action.activity, ...linksOf(subject.type, await current()), ...(subject.type === 'task' ? { taskId: subject.id } : {}) });
      return { type: action.type, ref: `activity:${activity.id}` };
    }
    case 'emit':
    case 'sendMessage': {
      const type = action.type === 'emit' ? `custom.${action.name}` : 'automation.message';
      const data = action.type === 'emit' ? { name: action.name, data: action.data ?? {} } : { channel: action.channel, template: action.template, data: action.data ?? {} };
      op.record(type as CrmEventName, subject, { ...data, ruleId: run.ruleId, runId: run.runId } as never);
      return { type: action.type, ref: `event:${op.events.at(-1)!.id}`, detail: type };
    }
  }
}
