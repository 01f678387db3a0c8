import type { EntitySchema, FieldType, StorageSchema } from './storage-schema.js';

const timestamps = { createdAt: 'string', updatedAt: 'string' } as const;

export const leadFields = {
  ...timestamps,
  status: 'string',
  name: 'string',
  email: 'string',
  phone: 'string',
  companyName: 'string',
  title: 'string',
  source: 'string',
  campaign: 'string',
  country: 'string',
  territory: 'string',
  ownerId: 'string',
  probability: 'number',
  'expectedValue.amount': 'number',
  'expectedValue.currency': 'string',
  qualifiedAt: 'string',
  disqualifiedAt: 'string',
  convertedAt: 'string',
  'converted.contactId': 'string',
  'converted.companyId': 'string',
  'converted.dealId': 'string',
  predictedProbability: 'number',
  tags: 'string[]',
  searchKeys: 'string[]',
  shareKeys: 'string[]',
} as const satisfies Record<string, FieldType>;

const lead: EntitySchema = {
  name: 'lead',
  fields: leadFields,
  indexes: [
    // Lists default to newest first.
    { name: 'created', fields: ['createdAt'] },
    { name: 'status', fields: ['status', 'createdAt'] },
    { name: 'owner', fields: ['ownerId', 'status', 'createdAt'] },
    { name: 'convertedContact', fields: ['converted.contactId'] },
    { name: 'searchKeys', fields: ['searchKeys'] },
    { name: 'tags', fields: ['tags'] },
  ],
};

export const contactFields = {
  ...timestamps,
  name: 'string',
  email: 'string',
  phone: 'string',
  jobTitle: 'string',
  companyId: 'string',
  ownerId: 'string',
  leadId: 'string',
  source: 'string',
  country: 'string',
  lastInteractionAt: 'string',
  tags: 'string[]',
  searchKeys: 'string[]',
  shareKeys: 'string[]',
} as const satisfies Record<string, FieldType>;

const contact: EntitySchema = {
  name: 'contact',
  fields: contactFields,
  indexes: [
    // Lists default to newest first.
    { name: 'created', fields: ['createdAt'] },
    { name: 'company', fields: ['companyId', 'name'] },
    { name: 'owner', fields: ['ownerId', 'name'] },
    { name: 'lead', fields: ['leadId'] },
    { name: 'searchKeys', fields: ['searchKeys'] },
    { name: 'tags', fields: ['tags'] },
  ],
};

export const companyFields = {
  ...timestamps,
  name: 'string',
  domain: 'string',
  phone: 'string',
  industry: 'string',
  country: 'string',
  ownerId: 'string',
  lastInteractionAt: 'string',
  tags: 'string[]',
  searchKeys: 'string[]',
  shareKeys: 'string[]',
} as const satisfies Record<string, FieldType>;

const company: EntitySchema = {
  name: 'company',
  fields: companyFields,
  indexes: [
    // Lists default to newest first.
    { name: 'created', fields: ['createdAt'] },
    { name: 'name', fields: ['name'] },
    { name: 'domain', fields: ['domain'] },
    { name: 'owner', fields: ['ownerId', 'name'] },
    { name: 'searchKeys', fields: ['searchKeys'] },
    { name: 'tags', fields: ['tags'] },
  ],
};

export const dealFields = {
  ...timestamps,
  title: 'string',
  pipelineId: 'string',
  stageKey: 'string',
  status: 'string',
  ownerId: 'string',
  contactId: 'string',
  companyId: 'string',
  leadId: 'string',
  'value.amount': 'number',
  'value.currency': 'string',
  probability: 'number',
  probabilityManual: 'boolean',
  'weightedValue.amount': 'number',
  expectedCloseDate: 'string',
  closedAt: 'string',
  lostReason: 'string',
  stageEnteredAt: 'string',
  lastActivityAt: 'string',
  postponeCount: 'number',
  stagePostponeCount: 'number',
  rottingSince: 'string',
  nextStepDueAt: 'string',
  source: 'string',
  country: 'string',
  expectedCloseMonth: 'string',
  cycleMs: 'number',
  closedFromStage: 'string',
  predictedProbability: 'number',
  tags: 'string[]',
  shareKeys: 'string[]',
} as const satisfies Record<string, FieldType>;

const deal: EntitySchema = {
  name: 'deal',
  fields: dealFields,
  indexes: [
    // Lists default to newest first.
    { name: 'created', fields: ['createdAt'] },
    // The pipeline board: one page of cards per stage, in stage-entry order.
    { name: 'board', fields: ['pipelineId', 'stageKey', 'stageEnteredAt'] },
    // The forecast: open deals by expected close month.
    { name: 'forecast', fields: ['pipelineId', 'status', 'expectedCloseMonth'] },
    // Velocity and performance: deals closed in a period.
    { name: 'closed', fields: ['status', 'closedAt'] },
    { name: 'owner', fields: ['ownerId', 'status', 'updatedAt'] },
    { name: 'contact', fields: ['contactId', 'createdAt'] },
    { name: 'company', fields: ['companyId', 'createdAt'] },
    { name: 'activity', fields: ['status', 'lastActivityAt'] },
    { name: 'tags', fields: ['tags'] },
  ],
};

export const pipelineFields = { ...timestamps, name: 'string', archived: 'boolean' } as const satisfies Record<string, FieldType>;

const pipeline: EntitySchema = {
  name: 'pipeline',
  fields: pipelineFields,
  indexes: [{ name: 'created', fields: ['createdAt'] }],
};

export const taskFields = {
  ...timestamps,
  subject: 'string',
  type: 'string',
  status: 'string',
  dueAt: 'string',
  dueDate: 'string',
  allDay: 'boolean',
  ownerId: 'string',
  priority: 'string',
  dealId: 'string',
  contactId: 'string',
  companyId: 'string',
  leadId: 'string',
  completedAt: 'string',
  stageKey: 'string',
  required: 'boolean',
  postponeCount: 'number',
  nextNotifyAt: 'string',
  'recurrence.seriesId': 'string',
  parentOwner: 'string',
  parentShareKeys: 'string[]',
} as const satisfies Record<string, FieldType>;

const task: EntitySchema = {
  name: 'task',
  fields: taskFields,
  indexes: [
    // Task lists default to due order.
    { name: 'dueAt', fields: ['dueAt'] },
    // An owner's agenda: open tasks by due time.
    { name: 'agenda', fields: ['ownerId', 'status', 'dueAt'] },
    { name: 'due', fields: ['status', 'dueAt'] },
    { name: 'deal', fields: ['dealId', 'status', 'dueAt'] },
    { name: 'contact', fields: ['contactId', 'dueAt'] },
    { name: 'company', fields: ['companyId', 'dueAt'] },
    { name: 'lead', fields: ['leadId', 'dueAt'] },
    { name: 'series', fields: ['recurrence.seriesId'] },
    // The scheduler's queue: open tasks by their next wake-up.
    { name: 'wake', fields: ['status', 'nextNotifyAt'] },
  ],
};

export const activityFields = {
  ...timestamps,
  kind: 'string',
  channel: 'string',
  direction: 'string',
  occurredAt: 'string',
  ownerId: 'string',
  dealId: 'string',
  contactId: 'string',
  companyId: 'string',
  leadId: 'string',
  taskId: 'string',
  parentOwner: 'string',
  parentShareKeys: 'string[]',
} as const satisfies Record<string, FieldType>;

const activity: EntitySchema = {
  name: 'activity',
  fields: activityFields,
  indexes: [
    // Activity lists default to most recent first.
    { name: 'occurred', fields: ['occurredAt'] },
    { name: 'deal', fields: ['dealId', 'occurredAt'] },
    { name: 'contact', fields: ['contactId', 'occurredAt'] },
    { name: 'company', fields: ['companyId', 'occurredAt'] },
    { name: 'lead', fields: ['leadId', 'occurredAt'] },
    { name: 'owner', fields: ['ownerId', 'occurredAt'] },
  ],
};

export const eventFields = {
  createdAt: 'string',
  type: 'string',
  at: 'string',
  actorId: 'string',
  subjectType: 'string',
  subjectId: 'string',
  refs: 'string[]',
} as const satisfies Record<string, FieldType>;

const event: EntitySchema = {
  name: 'event',
  fields: eventFields,
  indexes: [
    // The timeline: every event that concerns a record (multi-entry over refs), newest first by `at`.
    { name: 'refs', fields: ['refs'] },
    { name: 'subject', fields: ['subjectId', 'at'] },
    { name: 'type', fields: ['type', 'at'] },
    { name: 'at', fields: ['at'] },
  ],
};

export const customFieldFields = { ...timestamps, entity: 'string', key: 'string', type: 'string', archived: 'boolean' } as const satisfies Record<string, FieldType>;

const customField: EntitySchema = {
  name: 'customField',
  fields: customFieldFields,
  indexes: [{ name: 'entityKey', fields: ['entity', 'key'] }],
};

export const stageVisitFields = {
  ...timestamps,
  dealId: 'string',
  pipelineId: 'string',
  stageKey: 'string',
  enteredAt: 'string',
  exitedAt: 'string',
  exitKind: 'string',
  toStageKey: 'string',
  ownerId: 'string',
  postponeCount: 'number',
  durationMs: 'number',
  closedAs: 'string',
  parentOwner: 'string',
  parentShareKeys: 'string[]',
} as const satisfies Record<string, FieldType>;

const stageVisit: EntitySchema = {
  name: 'stageVisit',
  fields: stageVisitFields,
  indexes: [
    { name: 'deal', fields: ['dealId', 'enteredAt'] },
    // Funnel analytics: visits of a stage in a period.
    { name: 'funnel', fields: ['pipelineId', 'stageKey', 'enteredAt'] },
  ],
};

export const assignmentStrategyFields = { ...timestamps, entity: 'string', name: 'string', kind: 'string' } as const satisfies Record<string, FieldType>;

const assignmentStrategy: EntitySchema = {
  name: 'assignmentStrategy',
  fields: assignmentStrategyFields,
  indexes: [{ name: 'entity', fields: ['entity', 'name'] }],
};

export const settingFields = { ...timestamps, key: 'string' } as const satisfies Record<string, FieldType>;

/** Tenant settings (the business calendar, …), one row per key. */
const setting: EntitySchema = { name: 'setting', fields: settingFields, indexes: [] };

export const notificationFields = { ...timestamps, key: 'string', kind: 'string', status: 'string', at: 'string', subjectId: 'string' } as const satisfies Record<string, FieldType>;

/**
 * The scheduler's outbox: one row per fired notice, keyed by its idempotency key, so a notice is
 * recorded exactly once and redelivered after a crash until marked delivered.
 */
const notification: EntitySchema = {
  name: 'notification',
  fields: notificationFields,
  indexes: [{ name: 'pending', fields: ['status', 'at'] }],
};

/**
 * The storage schema of crmkit: every entity, its queryable fields and its indexes.
 * Bump `version` whenever an entity, field or index changes; adapters migrate forward on `open`.
 * `test/storage/crm-schema-version.test.ts` fails when the schema changes without a bump.
 */
export const CRM_STORAGE_SCHEMA: StorageSchema = {
  version: 5,
  entities: [lead, contact, company, deal, pipeline, task, activity, event, customField, stageVisit, assignmentStrategy, setting, notification],
};

/** Entity names of the built-in schema. */
export type CrmEntity =
  | 'lead' | 'contact' | 'company' | 'deal' | 'pipeline' | 'task' | 'activity' | 'event' | 'customField' | 'stageVisit' | 'assignmentStrategy' | 'setting' | 'notification';

type CustomPath = `custom.${string}`;
/** Queryable fields of each entity, for typed filters and sorts. */
export type LeadField = 'id' | keyof typeof leadFields | CustomPath;
export type ContactField = 'id' | keyof typeof contactFields | CustomPath;
export type CompanyField = 'id' | keyof typeof companyFields | CustomPath;
export type DealField = 'id' | keyof typeof dealFields | CustomPath;
export type TaskField = 'id' | keyof typeof taskFields;
export type ActivityField = 'id' | keyof typeof activityFields;
export type EventField = 'id' | keyof typeof eventFields;
export type StageVisitField = 'id' | keyof typeof stageVisitFields;
export type PipelineField = 'id' | keyof typeof pipelineFields;
