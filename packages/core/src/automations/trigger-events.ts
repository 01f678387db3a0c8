import type { CrmEventMap, CrmEventName } from '../events/event-map.js';
import { EVENT_TYPES } from '../events/event-types.js';
import { AUTOMATION_ENTITIES, type AutomationEntity } from './automation-schema.js';

/**
 * The domain events a rule may start on: every event of the event map about a record rules run for
 * (a lead, contact, company, deal, task or activity: the type names it, `deal.won`). Derived from the
 * event map, so a new record event is a trigger at once. The others are about configuration (pipelines,
 * custom fields, strategies, the calendar, the policy, webhooks) or automation itself: no record to run for.
 */
export const TRIGGER_EVENTS: readonly string[] = Object.keys(EVENT_TYPES).filter((type) => (AUTOMATION_ENTITIES as readonly string[]).includes(type.slice(0, type.indexOf('.'))));

/** The event types `TRIGGER_EVENTS` holds, as a type. */
type TriggerEvent = Extract<CrmEventName, `${AutomationEntity}.${string}`>;

type Words<S extends string> = S extends `${infer H} ${infer T}` ? H | Words<T> : S;
/** `S` when it lists exactly the payload keys of event `K`. */
type Exact<K extends TriggerEvent, S> = S extends string ? ([Exclude<keyof CrmEventMap[K], Words<S>> | Exclude<Words<S>, keyof CrmEventMap[K]>] extends [never] ? S : `does not list exactly the payload keys of ${K}`) : never;

const MERGED = 'mergeId duplicateIds changes links';
const UNDONE = 'mergeId restoredIds changes';
const ASSIGNED = 'ownerId previousOwnerId strategyId reason';
const NOTICE = 'key dueAt ownerId subject';
const KEYS = {
  'lead.created': 'lead restoredBy', 'lead.updated': 'changes', 'lead.qualified': 'from', 'lead.disqualified': 'reason',
  'lead.converted': 'contactId companyId dealId companyCreated contactCreated contactMatchedBy', 'lead.removed': 'lead',
  'lead.merged': MERGED, 'lead.mergeUndone': UNDONE, 'lead.assigned': ASSIGNED,
  'contact.created': 'contact restoredBy', 'contact.updated': 'changes', 'contact.removed': 'contact', 'contact.merged': MERGED, 'contact.mergeUndone': UNDONE,
  'company.created': 'company restoredBy', 'company.updated': 'changes', 'company.removed': 'company', 'company.merged': MERGED, 'company.mergeUndone': UNDONE,
  'deal.created': 'deal', 'deal.updated': 'changes', 'deal.removed': 'deal',
  'deal.stageChanged': 'from to direction changes', 'deal.won': 'from stageKey amount changes', 'deal.lost': 'from stageKey reason comment changes',
  'deal.reopened': 'from to changes', 'deal.stageReassigned': 'from to reason changes', 'deal.assigned': ASSIGNED,
  'deal.postponed': 'stageKey until from reason count stageCount', 'deal.rotting': 'key stageKey since lastActivityAt rottenDays ownerId',
  'activity.logged': 'activity',
  'task.created': 'task', 'task.updated': 'changes', 'task.completed': 'task outcome', 'task.postponed': 'from to reason count', 'task.cancelled': 'reason',
  'task.reminder': `${NOTICE} minutesBefore`, 'task.due': NOTICE, 'task.overdue': NOTICE,
} as const;

/**
 * The payload keys of each trigger event (`trigger.data.<key>`), space-separated. The compiler checks
 * the list against `CrmEventMap`: a key missing or unknown, or a record event left out, fails the build.
 */
export const PAYLOAD_KEYS: { readonly [K in TriggerEvent]: Exact<K, (typeof KEYS)[K]> } = KEYS;
