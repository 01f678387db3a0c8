import type { CrmEvent } from '../events/event-map.js';

/** Event payload keys that carry a field of the subject: dropped when that field is unreadable. */
const EVENT_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'deal.won': { amount: 'value', stageKey: 'stageKey', from: 'stageKey' },
  'deal.lost': { reason: 'lostReason', comment: 'lostComment', from: 'stageKey', stageKey: 'stageKey' },
  'deal.stageChanged': { from: 'stageKey', to: 'stageKey', direction: 'stageKey' },
  'deal.reopened': { from: 'stageKey', to: 'stageKey' },
  'deal.stageReassigned': { from: 'stageKey', to: 'stageKey' },
  'deal.postponed': { stageKey: 'stageKey', until: 'nextStepDueAt', from: 'nextStepDueAt', count: 'postponeCount', stageCount: 'stagePostponeCount' },
  'deal.rotting': { since: 'rottingSince', lastActivityAt: 'lastActivityAt', ownerId: 'ownerId', stageKey: 'stageKey' },
  'deal.assigned': { ownerId: 'ownerId', previousOwnerId: 'ownerId' },
  'lead.assigned': { ownerId: 'ownerId', previousOwnerId: 'ownerId' },
  'lead.qualified': { from: 'status' },
  'lead.disqualified': { reason: 'disqualifyReason' },
  'lead.converted': { contactId: 'converted', companyId: 'converted', dealId: 'converted' },
  'task.completed': { outcome: 'outcome' },
  'task.postponed': { from: 'dueAt', to: 'dueAt', reason: 'lastPostponeReason', count: 'postponeCount' },
  'task.reminder': { dueAt: 'dueAt', ownerId: 'ownerId', subject: 'subject' },
  'task.due': { dueAt: 'dueAt', ownerId: 'ownerId', subject: 'subject' },
  'task.overdue': { dueAt: 'dueAt', ownerId: 'ownerId', subject: 'subject' },
};

/**
 * Event types whose occurrence states the value of a field of their subject (`deal.won`: the status is
 * won; `task.due` fires at the due time): an event is hidden from a view that may not read one of them
 * — as a record shows no hidden field, its history tells none by the names of its events. Other events
 * (`*.updated`, `deal.assigned`, `deal.postponed`, …) only say that something changed, and lose the
 * hidden values from their payload.
 */
export const EVENT_TYPE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'deal.won': ['status'],
  'deal.lost': ['status'],
  'deal.reopened': ['status'],
  'deal.stageChanged': ['stageKey'],
  'deal.stageReassigned': ['stageKey'],
  'deal.rotting': ['rottingSince'],
  'lead.qualified': ['status'],
  'lead.disqualified': ['status'],
  'lead.converted': ['status'],
  'task.completed': ['status'],
  'task.cancelled': ['status'],
  'task.reminder': ['nextNotifyAt'],
  'task.due': ['dueAt'],
  'task.overdue': ['deadlineAt'],
};

/**
 * `automation.ran` (and a run-log entry, projected as its event): the field each action's `detail` is a
 * value of (`entity.field`, or a field of the run's subject). `updateFields` and `emit` details name what the rule says.
 */
const RUN_DETAILS: Readonly<Record<string, string>> = { assignOwner: 'ownerId', addTag: 'tags', removeTag: 'tags', createTask: 'task.dueAt', advance: 'deal.stageKey', lose: 'deal.lostReason' };

/** Payload keys holding a whole record, by the entity of that record. */
const RECORD_KEYS = ['lead', 'contact', 'company', 'deal', 'task', 'activity'] as const;

/**
 * Whether an event's ref may be shown with what the view reads of the subject: a ref to a linked record
 * of another type comes from the subject's link field (a deal's `contactId`, an activity's participants,
 * a converted lead's `converted`), so where the view cannot read that field the ref would tell it —
 * records show no hidden field, and neither do their events' refs.
 *
 * @param entity The subject's entity. @param key The ref (`contact:…`).
 */
export function linkShown(entity: string, key: string, rules: Pick<EventProjector, 'readable'>): boolean {
  const type = key.slice(0, key.indexOf(':'));
  if (type === entity || !(RECORD_KEYS as readonly string[]).includes(type)) return true;
  if (entity === 'lead') return rules.readable(entity, 'converted');
  return rules.readable(entity, `${type}Id`) && !(entity === 'activity' && type === 'contact' && !rules.readable(entity, 'participants'));
}

/** What projecting an event needs from the access rules. */
export interface EventProjector {
  readable(entity: string, field: string): boolean;
  project<T extends object>(entity: string, record: T): T;
  hasFieldRules(entity: string): boolean;
  reachesAll(entity: string, action: 'read'): boolean;
}

/** Entities a merge re-points links on: a view that reads all of them may see the merge's link count. */
const LINKED_ENTITIES = ['lead', 'contact', 'company', 'deal', 'task', 'activity'] as const;

/** Payload keys listing ids of records of the subject's entity (merged duplicates, restored ones). */
const SAME_ENTITY_ID_LISTS = ['duplicateIds', 'restoredIds'] as const;

/** Whether a payload value is a field-change map (`{ field: { from, to } }`), whatever the event type. */
function isChanges(value: unknown): value is Record<string, { from: unknown; to: unknown }> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.values(value).every((c) => c !== null && typeof c === 'object' && ('from' in c || 'to' in c));
}

function projectChanges(changes: Record<string, { from: unknown; to: unknown }>, entity: string, rules: EventProjector): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  let changed = false;
  for (const [key, change] of Object.entries(changes)) {
    if (key === 'custom') {
      const pick = (values: unknown) => (values && typeof values === 'object' ? rules.project(entity, { custom: values as Record<string, unknown> }).custom : values);
      const from = pick(change.from);
      const to = pick(change.to);
      if (from !== change.from || to !== change.to) changed = true;
      out[key] = { from, to };
    } else if (rules.readable(entity, key)) out[key] = change;
    else changed = true;
  }
  return changed ? out : changes;
}

/**
 * An event as a principal may see it: records in the payload projected with their entity's field
 * rules, changed fields the principal may not read dropped, payload values that reveal such a
 * field dropped (a won deal's `amount` when `value` is hidden). Merge events keep only the duplicate
 * ids `refVisible` accepts and drop their link count unless the principal reads every record. The
 * same object when nothing is hidden.
 */
export function projectEventData(event: CrmEvent, entity: string, rules: EventProjector, refVisible: (key: string) => boolean = () => false): CrmEvent {
  const data = event.data as unknown as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  const set = (key: string, value: unknown) => {
    out ??= { ...data };
    if (value === undefined) delete out[key];
    else out[key] = value;
  };
  for (const key of RECORD_KEYS) {
    const record = data[key];
    // Always projected: `project` also drops the bookkeeping copies of a parent's owner and shares.
    if (record && typeof record === 'object') {
      const projected = rules.project(key, record as object);
      if (projected !== record) set(key, projected);
    }
  }
  // By shape, not by type name: `*.updated`, `*.merged`, `*.mergeUndone` and any later event with changed fields.
  for (const [key, value] of Object.entries(data)) {
    if (!isChanges(value)) continue;
    // readable() is false for the parent's owner and shares on every entity, field rules or not.
    const projected = projectChanges(value, entity, rules);
    if (projected !== value) set(key, projected);
  }
  // Merge events name the duplicates (often another user's records) and count links to records of any owner.
  for (const key of SAME_ENTITY_ID_LISTS) {
    const ids = data[key];
    if (!Array.isArray(ids)) continue;
    const kept = ids.filter((id) => typeof id === 'string' && refVisible(`${entity}:${id}`));
    if (kept.length !== ids.length) set(key, kept);
  }
  if (event.type === 'automation.ran') {
    // A detail only where the view reads its field; a ref (and its detail) only to a record it reads.
    set(
      'actions',
      (data.actions as { type: string; ref?: string; detail?: string }[]).map(({ ref, detail, ...outcome }) => {
        const [field, type] = (RUN_DETAILS[outcome.type] ?? '').split('.').reverse();
        const seen = !ref || ref.startsWith('event:') || refVisible(ref);
        return { ...outcome, ...(seen ? { ref, ...(!field || rules.readable(type ?? entity, field) ? { detail } : {}) } : {}) };
      }),
    );
    // A service's error may quote any record it read as the service principal, and a time run's key the
    // time it fired on (a due time, a stage entry): to a view that does not read everything, code and record only.
    const error = data.error as { code?: string } | undefined;
    if (RECORD_KEYS.some((e) => rules.hasFieldRules(e) || !rules.reachesAll(e, 'read'))) {
      if (error) set('error', { code: error.code, message: 'hidden: it may name records or fields this view cannot read' });
      if (typeof data.triggerKey === 'string' && data.triggerKey.startsWith('time:')) set('triggerKey', data.triggerKey.split(':', 2).join(':'));
    }
  }
  if (typeof data.links === 'number' && 'mergeId' in data && !LINKED_ENTITIES.every((e) => rules.reachesAll(e, 'read'))) set('links', undefined);
  if (rules.hasFieldRules(entity)) {
    for (const [key, field] of Object.entries(EVENT_FIELDS[event.type] ?? {})) {
      if (key in data && !rules.readable(entity, field)) set(key, undefined);
    }
  }
  return out ? ({ ...event, data: out } as unknown as CrmEvent) : event;
}
