import * as z from 'zod/mini';
import { CrmError } from '../errors/crm-error.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { createIdGenerator } from '../domain/ids.js';
import { createCryptoRandom, createSeededRandom, type Random } from '../domain/random.js';
import { EventBus, type CrmEventHandler } from '../events/event-bus.js';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import { currencySchema, tenantIdSchema, userIdSchema } from '../schema/primitives.js';
import type { RecordRef } from '../schema/record.js';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import type { StorageAdapter } from '../storage/storage-adapter.js';
import { ActivityService } from './activity-service.js';
import { CompanyService } from './company-service.js';
import { ContactService } from './contact-service.js';
import { ConfigRevision, CustomFieldCache, SettingsCache, type Actor, type CrmContext } from './context.js';
import { CustomFieldService, ensureCustomFieldIndexes } from './custom-field-service.js';
import { DealService } from './deal-service.js';
import { LeadService } from './lead-service.js';
import type { Page } from './list-options.js';
import { consoleLogger, type Logger } from './logger.js';
import { parseInput } from './parse-input.js';
import { PipelineService } from './pipeline-service.js';
import { FunnelService } from './funnel-service.js';
import { AssignmentService } from './assignment-service.js';
import { CalendarService } from './calendar-service.js';
import { TaskService } from './task-service.js';
import { ReportService } from './reports/report-service.js';
import { Scheduler, type SchedulerOptions } from './scheduler/scheduler.js';
import { EventLogService, readTimeline, readTimelineWithKeys, type TimelineOptions } from './timeline-service.js';
import { createObserveApi, type ObserveApi } from '../observe/observe-api.js';

/** Options of `createCrm`. */
export interface CreateCrmOptions {
  /** Where data lives: `createMemoryStorage()`, `createSqliteStorage(…)`, `createIndexedDbStorage(…)`, … */
  readonly storage: StorageAdapter;
  /** The tenant every call of this instance is bound to. */
  readonly tenantId: string;
  /** The acting user, recorded on events and used as default owner. */
  readonly actor?: Actor;
  /** Time source (default: the system clock). Tests pass `createFakeClock()`. */
  readonly clock?: Clock;
  /** Randomness for ids (default: crypto). A seed makes ids reproducible. */
  readonly random?: Random | { readonly seed: number | string };
  /** Where crmkit reports failing handlers and scheduler progress (default: console warnings and errors). */
  readonly logger?: Logger;
  /** Currency of deals created without one (default `USD`). */
  readonly defaultCurrency?: string;
  /** `close()` also closes the storage (default true). Set false when several tenants share one adapter. */
  readonly closeStorage?: boolean;
  /** Scheduler settings (overdue grace, batch size, longest sleep). */
  readonly scheduler?: SchedulerOptions;
}

const optionsSchema = z.object({
  tenantId: tenantIdSchema,
  actor: z.optional(z.object({ userId: userIdSchema })),
  defaultCurrency: z.optional(currencySchema),
});

/** A CRM bound to one tenant. Create it with `createCrm`. */
export interface Crm {
  readonly tenantId: string;
  readonly leads: LeadService;
  readonly contacts: ContactService;
  readonly companies: CompanyService;
  readonly deals: DealService;
  readonly pipelines: PipelineService;
  readonly customFields: CustomFieldService;
  readonly activities: ActivityService;
  readonly eventLog: EventLogService;
  /** "Is this move allowed, and why not": funnel rule checks without writing. */
  readonly funnel: FunnelService;
  /** Assignment strategies for leads and deals. */
  readonly assignment: AssignmentService;
  /** The tenant's business calendar. */
  readonly calendar: CalendarService;
  /** Planned calls, meetings, e-mails and to-dos; the agenda. */
  readonly tasks: TaskService;
  /** Reminders, due and overdue notices, recurring tasks and rotting checks. */
  readonly scheduler: Scheduler;
  /** Subscribable observers of records, lists, boards, agendas and timelines. */
  readonly observe: ObserveApi;
  /** Funnel conversion, velocity, forecast, performance, customer value, lead scoring. */
  readonly reports: ReportService;
  /**
   * Everything that happened to a lead, contact, company or deal, newest first.
   *
   * @example
   * const { items } = await crm.timeline({ type: 'contact', id: ada.id });
   */
  timeline(ref: RecordRef, options?: TimelineOptions): Promise<Page<CrmEvent>>;
  /**
   * Subscribes to committed events of one type, or all with `'*'`. Returns the unsubscribe function.
   *
   * @example
   * const off = crm.on('deal.created', (e) => console.log(e.data.deal.title));
   */
  on<K extends CrmEventName | '*'>(name: K, handler: CrmEventHandler<K>): () => void;
  /** Stops handlers and (unless `closeStorage: false`) closes the storage. Later calls fail with `CLOSED`. */
  close(): Promise<void>;
}

/**
 * Creates a CRM instance bound to one tenant: opens (and migrates) the storage, then exposes the services.
 *
 * @example
 * import { createCrm, createMemoryStorage } from '@crmkit/core';
 * const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'u1' } });
 * const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@example.com' });
 */
export async function createCrm(options: CreateCrmOptions): Promise<Crm> {
  const parsed = parseInput(optionsSchema, { tenantId: options?.tenantId, actor: options?.actor, defaultCurrency: options?.defaultCurrency }, 'createCrm');
  if (!options.storage || typeof options.storage.transaction !== 'function') {
    throw new CrmError('VALIDATION', 'createCrm needs a storage adapter', {
      issues: [{ path: ['storage'], code: 'required', message: 'pass a storage adapter such as createMemoryStorage()' }],
    });
  }
  const storage = options.storage;
  const random =
    options.random && 'seed' in options.random ? createSeededRandom(options.random.seed) : ((options.random as Random | undefined) ?? createCryptoRandom());
  const logger = options.logger ?? consoleLogger;
  const bus = new EventBus(logger);
  const revision = new ConfigRevision(parsed.tenantId);
  const customFields = new CustomFieldCache(parsed.tenantId, revision);
  const settings = new SettingsCache(revision);
  let closed = false;

  await storage.open(CRM_STORAGE_SCHEMA);
  const stopWatching = storage.onChange((batch) => {
    // Other processes and tabs change definitions and settings too: drop the caches on any such change.
    if (batch.changes.some((c) => c.entity === 'customField')) customFields.invalidate();
    if (batch.changes.some((c) => c.entity === 'setting')) settings.invalidate();
  });

  const ctx: CrmContext = {
    storage,
    tenantId: parsed.tenantId,
    actor: parsed.actor,
    clock: options.clock ?? systemClock,
    random,
    newId: createIdGenerator(random),
    bus,
    logger,
    defaultCurrency: parsed.defaultCurrency ?? 'USD',
    customFields,
    settings,
    assertOpen() {
      if (closed) throw new CrmError('CLOSED', 'This crm instance is closed', { what: 'crm' });
    },
  };

  // Indexes of indexed custom fields, in case one is missing (made by another process, or a crash after the definition).
  await ensureCustomFieldIndexes(ctx);
  const scheduler = new Scheduler(ctx, options.scheduler);
  const crm: Omit<Crm, 'observe'> = {
    tenantId: parsed.tenantId,
    leads: new LeadService(ctx),
    contacts: new ContactService(ctx),
    companies: new CompanyService(ctx),
    deals: new DealService(ctx),
    pipelines: new PipelineService(ctx),
    customFields: new CustomFieldService(ctx),
    activities: new ActivityService(ctx),
    eventLog: new EventLogService(ctx),
    funnel: new FunnelService(ctx),
    assignment: new AssignmentService(ctx),
    calendar: new CalendarService(ctx),
    tasks: new TaskService(ctx),
    scheduler,
    reports: new ReportService(ctx),
    timeline: (ref, timelineOptions) => readTimeline(ctx, ref, timelineOptions),
    on: (name, handler) => bus.on(name, handler),
    async close() {
      if (closed) return;
      await scheduler.stop();
      closed = true;
      stopWatching();
      bus.clear();
      if (options.closeStorage !== false) await storage.close();
    },
  };
  return { ...crm, observe: createObserveApi(crm, storage, (ref, o) => readTimelineWithKeys(ctx, ref, o)) };
}
