import type { Activity } from '../schema/activity.js';
import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import type { CustomFieldDefinition } from '../schema/custom-field.js';
import type { Deal } from '../schema/deal.js';
import type { EventLogEntry } from '../schema/event.js';
import type { Lead } from '../schema/lead.js';
import type { Pipeline } from '../schema/pipeline.js';

/** A field that changed, with its old and new value (`undefined` = absent). */
export interface FieldChange {
  readonly from: unknown;
  readonly to: unknown;
}
export type FieldChanges = Readonly<Record<string, FieldChange>>;

/**
 * Every domain event crmkit records and emits, with its payload. The event log stores the same
 * payload, so handlers and the timeline read one shape.
 */
export interface CrmEventMap {
  'lead.created': { readonly lead: Lead };
  'lead.updated': { readonly changes: FieldChanges };
  'lead.qualified': { readonly from: string };
  'lead.disqualified': { readonly reason?: string };
  'lead.converted': { readonly contactId: string; readonly companyId?: string; readonly dealId?: string; readonly companyCreated: boolean };
  'lead.removed': { readonly lead: Lead };
  'contact.created': { readonly contact: Contact };
  'contact.updated': { readonly changes: FieldChanges };
  'contact.removed': { readonly contact: Contact };
  'company.created': { readonly company: Company };
  'company.updated': { readonly changes: FieldChanges };
  'company.removed': { readonly company: Company };
  'deal.created': { readonly deal: Deal };
  'deal.updated': { readonly changes: FieldChanges };
  'deal.removed': { readonly deal: Deal };
  'pipeline.created': { readonly pipeline: Pipeline };
  'pipeline.updated': { readonly changes: FieldChanges };
  'customField.defined': { readonly definition: CustomFieldDefinition };
  'customField.updated': { readonly changes: FieldChanges };
  'activity.logged': { readonly activity: Activity };
}

export type CrmEventName = keyof CrmEventMap;

/** A typed event: an event-log entry whose `data` matches its `type`. */
export type CrmEvent<K extends CrmEventName = CrmEventName> = K extends CrmEventName
  ? Omit<EventLogEntry, 'type' | 'data'> & { readonly type: K; readonly data: CrmEventMap[K] }
  : never;
