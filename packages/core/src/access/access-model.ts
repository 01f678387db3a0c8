import type { AccessAction, AccessGuard } from '../crm/access-guard.js';
import { activitySchema } from '../schema/activity.js';
import { companySchema } from '../schema/company.js';
import { contactSchema } from '../schema/contact.js';
import { dealSchema } from '../schema/deal.js';
import { leadSchema } from '../schema/lead.js';
import { taskSchema } from '../schema/task.js';

/** Row scopes, from nothing to everything. `own` is the owner's (a task's assignee's) records. */
export const SCOPES = ['none', 'own', 'team', 'subtree', 'all'] as const;
export type Scope = (typeof SCOPES)[number];

/** Everything a policy grants on, with the actions each has. */
export const ENTITY_ACTIONS = {
  lead: ['read', 'create', 'update', 'delete', 'convert', 'assign', 'share'],
  contact: ['read', 'create', 'update', 'delete', 'share'],
  company: ['read', 'create', 'update', 'delete', 'share'],
  deal: ['read', 'create', 'update', 'delete', 'advance', 'postpone', 'win', 'lose', 'reopen', 'assign', 'share'],
  task: ['read', 'create', 'update'],
  activity: ['read', 'create'],
  pipeline: ['read', 'create', 'update'],
  customField: ['read', 'create', 'update'],
  /** The business calendar, task types, assignment strategies, and the access policy itself. */
  setting: ['read', 'update'],
  /** `crm.reports` and `crm.scoring` (figures are computed over the readable rows only). */
  report: ['read'],
} as const satisfies Record<string, readonly AccessAction[]>;
export type PolicyEntity = keyof typeof ENTITY_ACTIONS;
export const POLICY_ENTITIES = Object.keys(ENTITY_ACTIONS) as PolicyEntity[];

/** Entities whose rows have an owner (`ownerId`): every scope applies. */
export const OWNED_ENTITIES: ReadonlySet<string> = new Set(['lead', 'contact', 'company', 'deal', 'task', 'activity']);
/** Entities whose records can be shared one by one. */
export const SHARED_ENTITIES: ReadonlySet<string> = new Set(['lead', 'contact', 'company', 'deal']);
/** Entities granted as a whole: only `all` or `none`. */
export const WHOLE_ENTITIES: ReadonlySet<string> = new Set(['pipeline', 'customField', 'setting', 'report']);

/** What a `write` share lets the recipient do besides reading. */
export const WRITE_SHARE_ACTIONS: ReadonlySet<AccessAction> = new Set(['update', 'advance', 'postpone', 'win', 'lose', 'reopen', 'convert']);

/** Fields that are always readable: a record without them is no record. */
export const BASE_FIELDS: ReadonlySet<string> = new Set(['id', 'tenantId', 'version', 'createdAt', 'updatedAt']);

/** Entities with field rules, and their fields (custom fields are `custom.<key>`, or `custom` for all of them). */
export const FIELD_CATALOG: Readonly<Record<string, ReadonlySet<string>>> = {
  lead: new Set(Object.keys(leadSchema().shape)),
  contact: new Set(Object.keys(contactSchema().shape)),
  company: new Set(Object.keys(companySchema().shape)),
  deal: new Set(Object.keys(dealSchema().shape)),
  task: new Set(Object.keys(taskSchema().shape)),
  activity: new Set(Object.keys(activitySchema().shape)),
};

const CARD_KEYS = ['searchKeys'];
const SHARED = { shares: ['shareKeys'], externalRefs: ['externalKeys'] };
/** A task series' `base` copies these fields of the task. */
const SERIES = ['recurrence'];
/**
 * Fields that reveal another: hiding the key hides the listed fields too, and what those reveal in
 * turn (the rule is transitive). A weighted amount or the line items give the amount away; search
 * keys hold normalised names, e-mails and phones; `cycleMs` is `closedAt − createdAt`; a won or lost
 * deal's probability (100 / 0), close time, lost reason or stage tells its status; the stage
 * probability, the stage closed from and the rotting time (`rottenDays` of the stage) tell the stage;
 * an all-day task's `dueDate` is its `dueAt` in its zone (hide `dueAt` to hide the day); a series' `recurrence` copies the task's fields.
 */
export const REVEALS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  deal: {
    value: ['weightedValue', 'lineItems'],
    probability: ['weightedValue', 'probabilityManual'],
    expectedCloseDate: ['expectedCloseMonth'],
    lostReason: ['lostComment'],
    closedAt: ['cycleMs'],
    status: ['stageKey', 'closedAt', 'closedFromStage', 'lostReason', 'probability', 'rottingSince'],
    stageKey: ['probability', 'closedFromStage', 'rottingSince'],
    stageEnteredAt: ['rottingSince'],
    lastActivityAt: ['rottingSince'],
    ...SHARED,
  },
  lead: {
    name: CARD_KEYS, email: CARD_KEYS, phone: CARD_KEYS, companyName: CARD_KEYS, website: CARD_KEYS,
    status: ['qualifiedAt', 'disqualifiedAt', 'disqualifyReason', 'convertedAt', 'converted'],
    ...SHARED,
  },
  contact: { name: CARD_KEYS, email: CARD_KEYS, phone: CARD_KEYS, ...SHARED },
  company: { name: CARD_KEYS, domain: CARD_KEYS, website: CARD_KEYS, phone: CARD_KEYS, ...SHARED },
  task: {
    dueAt: ['dueDate', 'deadlineAt', 'nextNotifyAt', ...SERIES],
    dueDate: ['deadlineAt'],
    timezone: ['deadlineAt', ...SERIES],
    reminders: ['nextNotifyAt', ...SERIES],
    status: ['completedAt', 'cancelledAt', 'outcome'],
    subject: SERIES, type: SERIES, ownerId: SERIES, priority: SERIES, durationMinutes: SERIES, notes: SERIES,
    externalRefs: ['externalKeys'],
  },
  activity: { externalRefs: ['externalKeys'], participants: ['participantContactIds'] },
};

/**
 * A stage visit's fields as the deal fields they copy or reveal: a deal's history follows the deal's
 * field rules (a visit's `ownerId` is the deal's owner then, its stage keys and exit the deal's stage,
 * `closedAs` its status, its times the deal's stage entry). Fields not listed (`dealId`, who moved it)
 * are readable with the deal.
 */
export const VISIT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  pipelineId: ['pipelineId'],
  ownerId: ['ownerId'],
  stageKey: ['stageKey'],
  fromStageKey: ['stageKey'],
  toStageKey: ['stageKey'],
  exitKind: ['stageKey', 'status'],
  closedAs: ['status'],
  enteredAt: ['stageEnteredAt'],
  exitedAt: ['stageEnteredAt'],
  durationMs: ['stageEnteredAt'],
  postponeCount: ['postponeCount', 'stagePostponeCount'],
};

/** The fields whose hiding hides `field` (transitively, per `REVEALS`), for one entity. */
export function revealSources(entity: string): ReadonlyMap<string, readonly string[]> {
  const direct = new Map<string, string[]>();
  for (const [source, derived] of Object.entries(REVEALS[entity] ?? {})) for (const d of derived) direct.set(d, [...(direct.get(d) ?? []), source]);
  const closure = new Map<string, string[]>();
  for (const field of direct.keys()) {
    const seen = new Set<string>();
    const walk = (f: string): void => {
      for (const s of direct.get(f) ?? []) {
        if (s === field || seen.has(s)) continue;
        seen.add(s);
        walk(s);
      }
    };
    walk(field);
    closure.set(field, [...seen]);
  }
  return closure;
}

/** The field a query path addresses: `value.amount` → `value`, `custom.budget.amount` → `custom.budget`. */
export function topField(path: string): string {
  if (path.startsWith('custom.')) {
    const dot = path.indexOf('.', 7);
    return dot === -1 ? path : path.slice(0, dot);
  }
  const dot = path.indexOf('.');
  return dot === -1 ? path : path.slice(0, dot);
}

/** The policy entity an event subject belongs to (`assignmentStrategy` is a setting). */
export function subjectEntity(subjectType: string): string {
  return subjectType === 'assignmentStrategy' ? 'setting' : subjectType;
}

/**
 * The fields of `entity` a principal may not read: catalog fields, and `custom.<key>` for each of
 * `customKeys` (the defined custom fields). Empty when nothing is hidden — field rules that deny
 * nothing included. A sync server sends it with each page (design sync.md §24): the device's rows
 * arrive without these fields, and it projects its own results and events with them.
 *
 * @param entity A record entity (`deal`, …) or `stageVisit`.
 */
export function hiddenFields(guard: Pick<AccessGuard, 'readable'>, entity: string, customKeys: readonly string[] = []): string[] {
  const fields = entity === 'stageVisit' ? Object.keys(VISIT_FIELDS) : [...(FIELD_CATALOG[entity] ?? [])];
  return [...fields.filter((f) => f !== 'custom'), ...customKeys.map((k) => `custom.${k}`)].filter((f) => !guard.readable(entity, f));
}
