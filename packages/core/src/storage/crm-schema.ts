import type { EntitySchema, FieldType, StorageSchema } from './storage-schema.js';

type Path<S extends string> = S extends `${infer P}:${string}` ? P : S;
/** The field paths of a field list (`'name probability:n tags:l'` → `'name' | 'probability' | 'tags'`). */
type FieldPaths<S extends string, Acc extends string = never> = S extends `${infer H} ${infer T}` ? FieldPaths<T, Acc | Path<H>> : Acc | Path<S>;

const TYPES: Readonly<Record<string, FieldType>> = { n: 'number', b: 'boolean', l: 'string[]' };

/**
 * One entity in a compact notation (the schema is data every bundle carries): `fields` are
 * space-separated paths with an optional type suffix — `:n` number, `:b` boolean, `:l` list of
 * strings, none: string; `indexes` are space-separated `name:field,field,…`.
 */
/** An entity with materialized aggregates (see `EntitySchema.aggregates`). */
function withAggregates<E extends EntitySchema>(schema: E, aggregates: NonNullable<EntitySchema['aggregates']>): E {
  return { ...schema, aggregates };
}

/** An entity whose `string[]` fields `fields` hold unique keys (see `EntitySchema.unique`). */
function withUnique<E extends EntitySchema>(schema: E, fields: readonly string[]): E {
  return { ...schema, unique: fields };
}

/**
 * Records hosts link to their own systems (`externalRefs`) keep `externalKeys` (`<system>:<id>`, see
 * `externalKeyOf`): a unique list, so a shop's customer 10042 is one contact per tenant on every adapter.
 */
const EXTERNAL = ' externalKeys:l';
const EXTERNAL_INDEX = ' externalKeys:externalKeys';
const external = <E extends EntitySchema>(schema: E): E => withUnique(schema, ['externalKeys']);

function entity<const F extends string>(name: string, fields: F, indexes = ''): EntitySchema & { readonly fields: Readonly<Record<FieldPaths<F>, FieldType>> } {
  return {
    name,
    fields: Object.fromEntries(fields.split(' ').map((f) => f.split(':')).map(([path, type]) => [path, TYPES[type!] ?? 'string'])) as Record<FieldPaths<F>, FieldType>,
    // `name:a?,b`: `a` is a sparse field of the index (`IndexSpec.sparse`), only looked up with a value.
    indexes: indexes ? indexes.split(' ').map((i) => i.split(':')).map(([index, on]) => ({ name: index!, fields: on!.replace(/\?/g, '').split(','), sparse: on!.match(/[\w.]+(?=\?)/g) ?? [] })) : [],
  };
}

const TIMES = 'createdAt updatedAt';

// Lists default to newest first (`created`).
const lead = external(entity(
  'lead',
  `${TIMES} status name email phone companyName title source campaign country territory ownerId probability:n expectedValue.amount:n expectedValue.currency qualifiedAt disqualifiedAt convertedAt converted.contactId converted.companyId converted.dealId predictedProbability:n tags:l searchKeys:l shareKeys:l${EXTERNAL}`,
  `created:createdAt status:status,createdAt owner:ownerId,status,createdAt convertedContact:converted.contactId convertedCompany:converted.companyId searchKeys:searchKeys tags:tags${EXTERNAL_INDEX}`,
));

const contact = external(entity(
  'contact',
  `${TIMES} name email phone jobTitle companyId ownerId leadId source country lastInteractionAt tags:l searchKeys:l shareKeys:l${EXTERNAL}`,
  `created:createdAt company:companyId?,name owner:ownerId,name lead:leadId? searchKeys:searchKeys tags:tags${EXTERNAL_INDEX}`,
));

const company = external(entity(
  'company',
  `${TIMES} name domain phone industry country ownerId lastInteractionAt tags:l searchKeys:l shareKeys:l${EXTERNAL}`,
  `created:createdAt name:name domain:domain owner:ownerId,name searchKeys:searchKeys tags:tags${EXTERNAL_INDEX}`,
));

// `board`: one page of cards per stage, in stage-entry order; `forecast`: open deals by expected close
// month; `closed`: velocity and performance, deals closed in a period.
const deal = withAggregates(external(entity(
  'deal',
  `${TIMES} title pipelineId stageKey status ownerId contactId companyId leadId value.amount:n value.currency probability:n probabilityManual:b weightedValue.amount:n expectedCloseDate closedAt lostReason stageEnteredAt lastActivityAt postponeCount:n stagePostponeCount:n rottingSince nextStepDueAt source country expectedCloseMonth cycleMs:n closedFromStage predictedProbability:n tags:l shareKeys:l${EXTERNAL}`,
  `created:createdAt board:pipelineId,stageKey,stageEnteredAt forecast:pipelineId,status,expectedCloseMonth closed:status,closedAt? owner:ownerId,status,updatedAt contact:contactId?,createdAt company:companyId?,createdAt lead:leadId? activity:status,lastActivityAt tags:tags${EXTERNAL_INDEX}`,
)), [
  // The pipeline board's per-stage count and totals per currency (`deals.board`), without a scan.
  { name: 'boardTotals', groupBy: ['pipelineId', 'stageKey', 'value.currency'], sums: ['value.amount', 'weightedValue.amount'] },
]);

const pipeline = entity('pipeline', `${TIMES} name archived:b`, 'created:createdAt');

// Task lists default to due order; `agenda`: an owner's open tasks by due time; `deadline` and
// `ownerDeadline`: overdue work, open tasks past their deadline (all-day tasks: the end of their
// local day); `wake`: the scheduler's queue, open tasks by their next wake-up.
const task = external(entity(
  'task',
  `${TIMES} subject type status dueAt dueDate deadlineAt allDay:b ownerId priority dealId contactId companyId leadId completedAt stageKey required:b postponeCount:n nextNotifyAt recurrence.seriesId parentOwner parentShareKeys:l${EXTERNAL}`,
  `dueAt:dueAt agenda:ownerId,status,dueAt due:status,dueAt deadline:status,deadlineAt ownerDeadline:ownerId,status,deadlineAt deal:dealId?,status,dueAt contact:contactId?,dueAt company:companyId?,dueAt lead:leadId?,dueAt series:recurrence.seriesId wake:status,nextNotifyAt${EXTERNAL_INDEX}`,
));

// Activity lists default to most recent first. `participants`: the activities a contact took part in
// (`participantContactIds`, the contact ids of `participants`), which a merge of that contact re-points.
const activity = external(entity(
  'activity',
  `${TIMES} kind channel direction occurredAt ownerId dealId contactId companyId leadId taskId parentOwner parentShareKeys:l participantContactIds:l${EXTERNAL}`,
  `occurred:occurredAt deal:dealId?,occurredAt contact:contactId?,occurredAt company:companyId?,occurredAt lead:leadId?,occurredAt owner:ownerId,occurredAt participants:participantContactIds${EXTERNAL_INDEX}`,
));

// `refs`: the timeline, every event that concerns a record (multi-entry over refs), newest first by `at`;
// `feed`: the change feed, the tenant's events in commit order; `typeFeed`: by type, for consumers that filter types.
const event = entity(
  'event',
  'createdAt type at actorId subjectType subjectId refs:l position:n shard:n',
  'refs:refs subject:subjectId,at type:type,at at:at feed:position typeFeed:type,position',
);

const customField = entity('customField', `${TIMES} entity key type archived:b`, 'entityKey:entity,key');

// `funnel`: funnel analytics, the visits of a stage in a period.
const stageVisit = entity(
  'stageVisit',
  `${TIMES} dealId pipelineId stageKey enteredAt exitedAt exitKind toStageKey ownerId postponeCount:n durationMs:n closedAs parentOwner parentShareKeys:l`,
  'deal:dealId,enteredAt funnel:pipelineId,stageKey,enteredAt',
);

const assignmentStrategy = entity('assignmentStrategy', `${TIMES} entity name kind`, 'entity:entity,name');

/** Tenant settings (the business calendar, …), one row per key. */
const setting = entity('setting', `${TIMES} key`);

/**
 * The scheduler's record of fired notices: one row per notice, keyed by its idempotency key, so a notice
 * is recorded exactly once; its event reaches handlers through the change feed.
 */
const notification = entity('notification', `${TIMES} key kind status at subjectId`, 'pending:status,at');

/** Queryable fields of deals (stage rules may test them). */
export const dealFields = deal.fields;

/**
 * Durable consumers of the change feed: one row per (consumer, partition) with its checkpoint and
 * lease. Workers claim rows whose lease is free or expired (`claim`, skip-locked). `turn`: claims take
 * the free partition whose turn is oldest, a round robin across workers and passes.
 */
const consumer = entity(
  'consumer',
  `${TIMES} name group partition:n position:n leaseOwner leaseUntil lastRunAt turn:n paused:b`,
  'name:name,partition turn:name,turn group:group,turn',
);

/**
 * Events a consumer could not handle yet: retried with backoff (`pending`, and later events of the same
 * record queue behind them to keep the record's order) or given up on (`parked`, the dead letters).
 */
const consumerBacklog = entity(
  'consumerBacklog',
  `${TIMES} consumer partition:n subjectId eventId position:n status attempts:n nextAttemptAt`,
  'partition:consumer,partition,status,position status:consumer,status,position',
);

/** Webhook endpoints of a tenant (the webhooks feature). */
const webhookEndpoint = entity('webhookEndpoint', `${TIMES} url status`, 'created:createdAt');

/** The delivery log of webhooks: one row per HTTP attempt. */
const webhookAttempt = entity(
  'webhookAttempt',
  `${TIMES} endpointId eventId eventType status at httpStatus:n`,
  'endpoint:endpointId,at event:eventId,endpointId,status',
);

/** Automation rules of a tenant (the automations feature); `revision` counts edits of the definition. */
const automationRule = entity('automationRule', `${TIMES} name enabled:b revision:n triggerType`, 'created:createdAt');

/**
 * The run log of automation rules: one row per (rule, trigger key) — its id — so a rule runs once per
 * event whatever process handles it; `waiting` runs are continuations the scheduler resumes at `resumeAt`.
 */
const automationRun = entity(
  'automationRun',
  `${TIMES} ruleId revision:n triggerKey status subjectType subjectId depth:n resumeAt`,
  'rule:ruleId,createdAt subject:subjectId,createdAt waiting:status,resumeAt',
);

/**
 * Import jobs (the imports feature): one row per run of `crm.import.run`, with its checkpoint — the
 * source rows handled by the chunks committed so far — so a crashed import resumes after them.
 */
const importJob = entity('importJob', `${TIMES} status entity`, 'created:createdAt');

/**
 * The merge log (the merges feature): one row per merge of duplicate leads, contacts or companies, with
 * the snapshots and re-pointed links `crm.merges.undo` restores; `survivor`: a record's merges, newest first.
 */
const merge = entity('merge', `${TIMES} entity survivorId status`, 'created:createdAt survivor:survivorId,createdAt');

/**
 * Device sync (`@crmkit/sync`), server side: one `syncChange` per synced record (id `entity:recordId`) at
 * the position of its last write, pulled in position order (`deleted`: set on tombstones only, so the
 * sparse `tombstone` index holds just those); one `syncClient` per device (id = clientId) with its last
 * applied command `lastSeq`. Schema 13 dropped 12's `tx`/`tomb` indexes and columns: every write pays for them.
 */
const syncChange = entity('syncChange', 'updatedAt position:n deleted:b', 'position:position tombstone:deleted?,updatedAt');
const syncClient = entity('syncClient', `${TIMES} userId lastSeq:n`, 'user:userId');

/**
 * Device sync, device side: the command log (`syncCommand`), the confirmed rows of optimistically changed
 * records (`syncShadow`, id `entity:recordId`) and the exit tags of received records (`syncTag`).
 */
const syncCommand = entity('syncCommand', 'createdAt seq:n name status applied:b', 'seq:seq status:status,seq');
const syncShadow = entity('syncShadow', 'entity recordId');
const syncTag = entity('syncTag', 'entity recordId epoch:n', 'epoch:epoch');

/**
 * The storage schema of crmkit: every entity, its queryable fields and its indexes.
 * Bump `version` whenever an entity, field or index changes; adapters migrate forward on `open`.
 * `test/storage/crm-schema-version.test.ts` fails when the schema changes without a bump.
 */
export const CRM_STORAGE_SCHEMA: StorageSchema = {
  version: 13,
  entities: [lead, contact, company, deal, pipeline, task, activity, event, customField, stageVisit, assignmentStrategy, setting, notification, consumer, consumerBacklog, webhookEndpoint, webhookAttempt, importJob, automationRule, automationRun, merge, syncChange, syncClient, syncCommand, syncShadow, syncTag],
};

/** Entity names of the built-in schema. */
export type CrmEntity =
  | 'lead' | 'contact' | 'company' | 'deal' | 'pipeline' | 'task' | 'activity' | 'event' | 'customField' | 'stageVisit' | 'assignmentStrategy' | 'setting' | 'notification'
  | 'consumer' | 'consumerBacklog' | 'webhookEndpoint' | 'webhookAttempt' | 'importJob' | 'automationRule' | 'automationRun' | 'merge'
  | 'syncChange' | 'syncClient' | 'syncCommand' | 'syncShadow' | 'syncTag';

type CustomPath = `custom.${string}`;
/** Queryable fields of each entity, for typed filters and sorts. */
export type LeadField = 'id' | keyof typeof lead.fields | CustomPath;
export type ContactField = 'id' | keyof typeof contact.fields | CustomPath;
export type CompanyField = 'id' | keyof typeof company.fields | CustomPath;
export type DealField = 'id' | keyof typeof deal.fields | CustomPath;
export type TaskField = 'id' | keyof typeof task.fields;
export type ActivityField = 'id' | keyof typeof activity.fields;
export type EventField = 'id' | keyof typeof event.fields;
export type StageVisitField = 'id' | keyof typeof stageVisit.fields;
export type PipelineField = 'id' | keyof typeof pipeline.fields;
