import type { RecordRef } from '../schema/record.js';
import type { Deal } from '../schema/deal.js';
import type { Lead } from '../schema/lead.js';
import type { Contact } from '../schema/contact.js';
import type { Company } from '../schema/company.js';
import type { Task } from '../schema/task.js';
import type { Activity } from '../schema/activity.js';
import type { Pipeline } from '../schema/pipeline.js';
import type { Board, BoardOptions } from '../deals/deal-board.js';
import type { Agenda, TaskService } from '../tasks/task-service.js';
import type { ActivityService } from '../activities/activity-service.js';
import { CrmError } from '../errors/crm-error.js';
import type { CrmEvent } from '../events/event-map.js';
import type { DealListOptions } from '../deals/deal-service.js';
import type { ListOptions, Page } from '../crm/list-options.js';
import type { TimelineOptions } from '../timeline/timeline-service.js';
import type { ActivityField, CompanyField, ContactField, LeadField, PipelineField, TaskField } from '../storage/crm-schema.js';
import type { Clock } from '../domain/clock.js';
import type { Crm } from '../crm/crm.js';
import { AgendaObserver, type AgendaOptions } from './agenda-observer.js';
import { BoardObserver } from './board-observer.js';
import { ListObserver } from './list-observer.js';
import { RecordObserver } from './record-observer.js';
import { TimelineObserver, type TimelineData } from './timeline-observer.js';
import type { ChangeSource } from './observer.js';

/**
 * Observers over the CRM's data: subscribe, read snapshots, get updates after every committed change
 * that can affect them (in this process and, with adapters that support it, other tabs and processes).
 * React hooks are thin wrappers over these. `crm.observe`. `task`, `tasks` and `agenda` need the
 * tasks feature, `activities` the activities feature: without it they throw `VALIDATION`
 * (`feature_required`).
 */
export interface ObserveApi {
  deal(id: string, initialData?: Deal): RecordObserver<Deal>;
  lead(id: string, initialData?: Lead): RecordObserver<Lead>;
  contact(id: string, initialData?: Contact): RecordObserver<Contact>;
  company(id: string, initialData?: Company): RecordObserver<Company>;
  task(id: string, initialData?: Task): RecordObserver<Task>;
  deals(options?: DealListOptions, initialData?: Page<Deal>): ListObserver<Deal, DealListOptions>;
  leads(options?: ListOptions<LeadField>, initialData?: Page<Lead>): ListObserver<Lead, ListOptions<LeadField>>;
  contacts(options?: ListOptions<ContactField>, initialData?: Page<Contact>): ListObserver<Contact, ListOptions<ContactField>>;
  companies(options?: ListOptions<CompanyField>, initialData?: Page<Company>): ListObserver<Company, ListOptions<CompanyField>>;
  tasks(options?: ListOptions<TaskField>, initialData?: Page<Task>): ListObserver<Task, ListOptions<TaskField>>;
  activities(options?: ListOptions<ActivityField>, initialData?: Page<Activity>): ListObserver<Activity, ListOptions<ActivityField>>;
  /** The tenant's pipelines (as `crm.pipelines.list`, oldest first by default), kept current. */
  pipelines(options?: ListOptions<PipelineField>, initialData?: Page<Pipeline>): ListObserver<Pipeline, ListOptions<PipelineField>>;
  board(pipelineId: string, options?: BoardOptions, initialData?: Board): BoardObserver;
  agenda(options?: AgendaOptions, initialData?: Agenda): AgendaObserver;
  timeline(ref: RecordRef, options?: TimelineOptions, initialData?: Page<CrmEvent>): TimelineObserver;
}

/** @internal Builds `crm.observe` over a CRM's public services. */
export function createObserveApi(
  crm: Crm,
  storage: ChangeSource,
  timelineWithKeys: (ref: RecordRef, options: TimelineOptions) => Promise<TimelineData>,
  clock?: Clock,
): ObserveApi {
  // Task and activity observers read through those features' APIs: a crm without them cannot have them.
  const feature = <T>(key: 'tasks' | 'activities'): T => {
    const api = (crm as unknown as Record<string, T | undefined>)[key];
    if (!api) throw new CrmError('VALIDATION', `crm.observe: ${key} observers need the ${key}() feature`, { issues: [{ path: [key], code: 'feature_required', message: `add ${key}() from @crmkit/core/${key} to the features` }] });
    return api;
  };
  return {
    deal: (id, initial) => new RecordObserver(storage, 'deal', id, (i) => crm.deals.get(i), initial),
    lead: (id, initial) => new RecordObserver(storage, 'lead', id, (i) => crm.leads.get(i), initial),
    contact: (id, initial) => new RecordObserver(storage, 'contact', id, (i) => crm.contacts.get(i), initial),
    company: (id, initial) => new RecordObserver(storage, 'company', id, (i) => crm.companies.get(i), initial),
    task: (id, initial) => {
      const tasks = feature<TaskService>('tasks');
      return new RecordObserver(storage, 'task', id, (i) => tasks.get(i), initial);
    },
    deals: (options = {}, initial) => new ListObserver(storage, 'deal', options, (o) => crm.deals.list(o), initial),
    leads: (options = {}, initial) => new ListObserver(storage, 'lead', options, (o) => crm.leads.list(o), initial),
    contacts: (options = {}, initial) => new ListObserver(storage, 'contact', options, (o) => crm.contacts.list(o), initial),
    companies: (options = {}, initial) => new ListObserver(storage, 'company', options, (o) => crm.companies.list(o), initial),
    tasks: (options = {}, initial) => {
      const tasks = feature<TaskService>('tasks');
      return new ListObserver(storage, 'task', options, (o) => tasks.list(o), initial);
    },
    activities: (options = {}, initial) => {
      const activities = feature<ActivityService>('activities');
      return new ListObserver(storage, 'activity', options, (o) => activities.list(o), initial);
    },
    pipelines: (options = {}, initial) => new ListObserver(storage, 'pipeline', options, (o) => crm.pipelines.list(o), initial),
    board: (pipelineId, options = {}, initial) =>
      new BoardObserver(storage, pipelineId, options, (id, o) => crm.deals.board(id, o), {
        advance: (id, o) => crm.deals.advance(id, o ?? {}),
        postpone: (id, o) => crm.deals.postpone(id, o),
        lose: (id, o) => crm.deals.lose(id, o),
        win: (id) => crm.deals.win(id),
      }, initial),
    agenda: (options = {}, initial) => {
      const tasks = feature<TaskService>('tasks');
      return new AgendaObserver(storage, options, (o) => tasks.agenda(o), initial, clock);
    },
    timeline: (ref, options = {}, initial) => new TimelineObserver(storage, ref, options, timelineWithKeys, initial),
  };
}
