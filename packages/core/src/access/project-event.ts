import type { CrmEvent } from '../events/event-map.js';

/** Event payload keys that carry a field of the subject: dropped when that field is unreadable. */
const EVENT_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'deal.won': { amount: 'value', stageKey: 'stageKey', from: 'stageKey' },
  'deal.lost': { reason: 'lostReason', comment: 'lostComment', from: 'stageKey', stageKey: 'stageKey' },
  'deal.stageChanged': { from: 'stageKey', to: 'stageKey' },
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

/** Payload keys holding a whole record, by the entity of that record. */
const RECORD_KEYS = ['lead', 'contact', 'company', 'deal', 'task', 'activity'] as const;

/** What projecting an event needs from the access rules. */
export interface EventProjector {
  readable(entity: string, field: string): boolean;
  project<T extends object>(entity: string, record: T): T;
  hasFieldRules(entity: string): boolean;
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
 * field dropped (a won deal's `amount` when `value` is hidden). The same object when nothing is hidden.
 */
export function projectEventData(event: CrmEvent, entity: string, rules: EventProjector): CrmEvent {
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
  const changes = data.changes;
  if (changes && typeof changes === 'object' && event.type.endsWith('.updated')) {
    // readable() is false for the parent's owner and shares on every entity, field rules or not.
    const projected = projectChanges(changes as Record<string, { from: unknown; to: unknown }>, entity, rules);
    if (projected !== changes) set('changes', projected);
  }
  if (rules.hasFieldRules(entity)) {
    for (const [key, field] of Object.entries(EVENT_FIELDS[event.type] ?? {})) {
      if (key in data && !rules.readable(entity, field)) set(key, undefined);
    }
  }
  return out ? ({ ...event, data: out } as unknown as CrmEvent) : event;
}
