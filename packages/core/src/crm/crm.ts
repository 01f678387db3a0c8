import type { ActivityService } from '../activities/activity-service.js';
import type { AssignmentService } from '../assignment/assignment-service.js';
import type { CalendarService } from '../calendar/calendar-service.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { CompanyService } from '../companies/company-service.js';
import type { ContactService } from '../contacts/contact-service.js';
import type { CustomFieldService } from '../custom-fields/custom-field-service.js';
import type { DealService } from '../deals/deal-service.js';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import type { FunnelService } from '../funnel/funnel-service.js';
import type { LeadService } from '../leads/lead-service.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import type { RecordRef } from '../schema/record.js';
import type { TaskService } from '../tasks/task-service.js';
import type { EventLogService, TimelineOptions } from '../timeline/timeline-service.js';
import type { CrmEventHandler } from './event-bus.js';
import type { Page } from './list-options.js';

/**
 * A CRM bound to one tenant, with the core services. Create it with `createCrm`; the features passed
 * there (`reports()`, `scoring()`, `scheduler()`, `observers()`) add their own properties.
 */
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
  /** How identities (phone region, normalised keys) are read in this tenant. */
  readonly identity: IdentityService;
  /** Planned calls, meetings, e-mails and to-dos; the agenda. */
  readonly tasks: TaskService;
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
  /** Stops the features' work (the scheduler), handlers and (unless `closeStorage: false`) the storage. Later calls fail with `CLOSED`. */
  close(): Promise<void>;
}
