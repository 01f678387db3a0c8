import type { CompanyService } from '../companies/company-service.js';
import type { ContactService } from '../contacts/contact-service.js';
import type { DealService } from '../deals/deal-service.js';
import type { CrmEventName } from '../events/event-map.js';
import type { FunnelService } from '../funnel/funnel-service.js';
import type { LeadService } from '../leads/lead-service.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import type { CrmEventHandler } from './event-bus.js';
import type { Principal } from './access-guard.js';

/**
 * A CRM bound to one tenant, with the core services: leads, contacts, companies, deals and the
 * funnel, and pipelines. Create it with `createCrm`; the features passed
 * there (`timeline()`, `tasks()`, `activities()`, `assignment()`, `customFields()`, `duplicates()`, `imports()`, `reports()`, `scoring()`,
 * `scheduler()`, `observers()`) add their own properties.
 */
export interface Crm {
  readonly tenantId: string;
  readonly leads: LeadService;
  readonly contacts: ContactService;
  readonly companies: CompanyService;
  readonly deals: DealService;
  readonly pipelines: PipelineService;
  /** "Is this move allowed, and why not": funnel rule checks without writing. */
  readonly funnel: FunnelService;
  /**
   * Subscribes to committed events of one type, or all with `'*'`. Returns the unsubscribe function.
   *
   * @example
   * const off = crm.on('deal.created', (e) => console.log(e.data.deal.title));
   */
  on<K extends CrmEventName | '*'>(name: K, handler: CrmEventHandler<K>): () => void;
  /**
   * A view of this crm acting for one principal: every service, feature, observer and event
   * subscription of the view acts as `principal.userId` (the `actorId` of its events, the owner of
   * what it creates) and, with the `access()` feature and a policy, sees and changes only what the
   * policy grants. Cheap (no storage read): make one per request. A view's `close()` does nothing;
   * views cannot make views.
   *
   * @param principal `{ userId, roles?, teamIds? }`.
   * @returns The view, with the same features as the crm.
   * @throws CrmError `VALIDATION` for a malformed principal; `FORBIDDEN` when called on a view.
   * @example
   * const asAnna = crm.as({ userId: 'anna' });
   * const mine = await asAnna.deals.list();
   */
  as(principal: Principal): this;
  /** Stops the features' work (the scheduler), handlers and (unless `closeStorage: false`) the storage. Later calls fail with `CLOSED`. */
  close(): Promise<void>;
}
