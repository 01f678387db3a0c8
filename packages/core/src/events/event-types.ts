import type { CrmEventName } from './event-map.js';

/**
 * Every event type crmkit records, at run time (the compiler keeps it complete: a type added to
 * `CrmEventMap` without a line here fails the build). Filters check names against it, so a typo such
 * as `deal.wonn` is refused instead of silently matching nothing.
 */
export const EVENT_TYPES: { readonly [K in CrmEventName]: 1 } = {
  'lead.created': 1,
  'lead.updated': 1,
  'lead.qualified': 1,
  'lead.disqualified': 1,
  'lead.converted': 1,
  'lead.removed': 1,
  'lead.merged': 1,
  'lead.mergeUndone': 1,
  'contact.merged': 1,
  'contact.mergeUndone': 1,
  'company.merged': 1,
  'company.mergeUndone': 1,
  'contact.created': 1,
  'contact.updated': 1,
  'contact.removed': 1,
  'company.created': 1,
  'company.updated': 1,
  'company.removed': 1,
  'deal.created': 1,
  'deal.updated': 1,
  'deal.removed': 1,
  'pipeline.created': 1,
  'pipeline.updated': 1,
  'customField.defined': 1,
  'customField.updated': 1,
  'activity.logged': 1,
  'deal.stageChanged': 1,
  'deal.won': 1,
  'deal.lost': 1,
  'deal.reopened': 1,
  'deal.postponed': 1,
  'deal.rotting': 1,
  'deal.stageReassigned': 1,
  'deal.assigned': 1,
  'lead.assigned': 1,
  'assignmentStrategy.created': 1,
  'assignmentStrategy.updated': 1,
  'task.created': 1,
  'task.updated': 1,
  'task.completed': 1,
  'task.postponed': 1,
  'task.cancelled': 1,
  'task.reminder': 1,
  'task.due': 1,
  'task.overdue': 1,
  'calendar.updated': 1,
  'access.policyChanged': 1,
  'access.directoryChanged': 1,
  'webhook.disabled': 1,
  'automation.defined': 1,
  'automation.ran': 1,
  'automation.message': 1,
};

/** Whether `type` is an event crmkit records: a known type, or `custom.<name>` (an automation's `emit`). */
export const isEventType = (type: string): boolean => Object.hasOwn(EVENT_TYPES, type) || type.startsWith('custom.');
