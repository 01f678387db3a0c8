import type { ValidationIssue } from '../errors/crm-error.js';
import type { RecurrenceRules } from '../domain/tasks/recurrence-rules.js';
import type { AccessHooks } from './access-guard.js';
import type { MovePlan } from '../domain/funnel/plan-move.js';
import type { FieldType } from '../query/field-type.js';
import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import type { IdentityOptions } from '../domain/duplicates.js';
import type { CustomFieldDefinition, CustomFieldValue, CustomValues } from '../schema/custom-field.js';
import type { Lead } from '../schema/lead.js';
import type { Deal } from '../schema/deal.js';
import type { Pipeline, Stage, TaskTemplate } from '../schema/pipeline.js';
import type { NextStepInput, Task } from '../schema/task.js';
import type { Operation } from './operation.js';
import type { CrmContext } from './context.js';
import type { RecordBase } from '../schema/record.js';
import type { Activity, ActivityLogParsed } from '../schema/activity.js';
import type { MergeEntity, MergeOptions, MergeResult } from '../schema/merge.js';
import type { Row, StorageTx } from '../storage/storage-adapter.js';

/**
 * Extension points core operations consult. Each is filled by at most one feature; an operation
 * that needs an unfilled one fails with a `VALIDATION` or `RULE_VIOLATION` error naming the feature.
 */
export interface FeatureHooks {
  /** Recurring tasks: starting a series, continuing it on completion or cancellation (the scheduler feature). */
  readonly recurrence?: RecurrenceRules;
  /** Record and field rules of views (`crm.as(principal)`): the access feature. Without it views are trusted. */
  readonly access?: AccessHooks;
  /** Tasks in the funnel: template tasks, next steps, postponements, strict mode (the tasks feature). */
  readonly tasks?: TaskHooks;
  /** Owners chosen by strategy: `leads.create({ … }, { assignWith })`, template assignees (the assignment feature). */
  readonly assignment?: AssignmentHooks;
  /** Typed custom values and `custom.*` query paths (the custom-fields feature). */
  readonly customFields?: CustomFieldHooks;
  /** Duplicate-search keys of cards and the company a converted lead belongs to (the duplicates feature). */
  readonly duplicates?: DuplicateHooks;
  /** Automation rules (the automations feature): time triggers and waiting runs for each scheduler tick, pipeline edits checked against the rules. */
  readonly automations?: AutomationHooks;
  /** `crm.contacts/companies/leads.merge`: the merges feature's merge, run with the caller's context (a view's too). */
  readonly merges?: MergeHooks;
  /** Logging an activity inside an operation (imports): the activities feature. Rules that log activities are refused without it. */
  readonly activities?: { log(op: Operation, parsed: ActivityLogParsed): Promise<Activity> };
  /** Change positions of written records for device sync (`syncChanges()` of `@crmkit/sync/server`). */
  readonly sync?: SyncHooks;
}

/** What core asks of device sync's server side. */
export interface SyncHooks {
  /**
   * Called by every write operation inside its transaction, after its events are appended (also when
   * it recorded none): records the change positions of the rows it wrote. A rejection rolls the
   * operation back.
   *
   * @param tx The operation's read-write transaction.
   * @param written Final state of each row the operation wrote, keyed `entity:id` (`null` = deleted).
   * @param now The operation's time (canonical timestamp).
   */
  recordChanges(tx: StorageTx, written: ReadonlyMap<string, Row | null>, now: string): Promise<void>;
}

/** What core asks of the automations feature. */
export interface AutomationHooks {
  /** Evaluates time triggers and continues ended waits. */
  tick(): Promise<{ readonly runs: number }>;
  /**
   * Refuses a pipeline edit (create, update, stage edits, reorder, removal) that would leave an enabled
   * rule failing define's checks — a stage it names gone, a move the new order or settings forbid:
   * `VALIDATION` (issue code `in_use`) naming each rule, in the edit's transaction, before it writes.
   *
   * @param next The pipeline as the edit would store it (it replaces the stored one with its id).
   * @param context The operation, for the error (`pipelines.removeStage`).
   */
  checkPipeline(op: Operation, next: Pipeline, context: string): Promise<void>;
}

/** What core asks of the merges feature. */
export interface MergeHooks {
  merge(ctx: CrmContext, entity: MergeEntity, survivorId: string, duplicateIds: readonly string[], options: MergeOptions | undefined): Promise<MergeResult<RecordBase>>;
}

/** What core asks of the duplicates feature. */
export interface DuplicateHooks {
  /** How the tenant reads identities (phone parser, default region), for one operation. */
  identity(op: Operation): Promise<IdentityOptions>;
  /** The duplicate-search keys of a card (`searchKeys`), from its contact data (E.164 phone, IDNA domain, e-mail). */
  keys(kind: 'person' | 'company', card: object, identity: IdentityOptions): string[];
  /** The oldest contact with the lead's normalised e-mail, else its phone (read in `region`, else the lead's country or the tenant's region). */
  matchContact(op: Operation, lead: Lead, region?: string): Promise<{ contact: Contact; by: 'email' | 'phone' } | undefined>;
  /**
   * Replaces every `same` node of a list filter with `containsAny` over the indexed `searchKeys`;
   * problems (a value with no identity, a field that has none) are returned as issues at their path.
   */
  resolveSame(op: Operation, entity: string, where: unknown): Promise<{ where: unknown; issues: ValidationIssue[] }>;
  /** The existing company a lead being converted belongs to: same domain, else the same normalised name. */
  matchCompany(op: Operation, lead: Lead): Promise<Company | undefined>;
  /** The company domain of a lead's e-mail address (none for free mail providers). */
  companyDomain(lead: Lead): string | undefined;
  /** Records like a probe, best first, read inside the operation (sees its writes; the view's scope applies). */
  find(op: Operation, probe: object, options: { entities: readonly ('lead' | 'contact' | 'company')[]; minScore: number; limit: number }): Promise<readonly { readonly record: RecordBase }[]>;
}

/** A parsed value with the problems found, relative to where the value sits. */
export interface Checked<T> {
  readonly value?: T;
  readonly issues: ValidationIssue[];
}

/** What the funnel asks of the tasks feature. */
export interface TaskHooks {
  /** Parses a next-step input (timestamps normalised). */
  parseNextStep(input: unknown): Checked<NextStepInput>;
  /** Parses a stage's task templates (defaults filled). */
  parseTemplates(input: unknown, assignment: boolean): Checked<TaskTemplate[]>;
  /** The deal's open tasks and the tasks created during its current stage visit. */
  moveContext(op: Operation, deal: Deal): Promise<{ openTasks: Task[]; stageTasks: Task[] }>;
  /** The tasks a new deal starts with: its stage's template tasks and the next step. Built, not written. */
  startDeal(op: Operation, deal: Deal, stage: Stage, nextStep: NextStepInput | undefined, context: string): Promise<Task[]>;
  /**
   * The task side of a planned move before the deal is written: cancels a lost deal's open tasks,
   * moves the postponed task (or builds a follow-up), builds template and next-step tasks.
   * Returns the deal's open tasks afterwards (without `created`) and the tasks to insert.
   */
  applyMove(op: Operation, deal: Deal, plan: MovePlan, openTasks: readonly Task[], nextStep: NextStepInput | undefined): Promise<{ open: Task[]; created: Task[] }>;
  /** Sets `nextStepDueAt` to the earliest due time among a deal's open tasks. */
  withNextStep(deal: Deal, openTasks: readonly Pick<Task, 'dueAt' | 'status'>[]): Deal;
  /** The tenant's task type keys (built-in and defined): rules creating tasks are checked against them. */
  typeKeys(op: Operation): Promise<string[]>;
  /** Writes new tasks and records `task.created` for each. */
  insert(op: Operation, tasks: readonly Task[]): Promise<void>;
}

/** What core asks of the assignment feature. */
export interface AssignmentHooks {
  /** Gives a lead or deal an owner with a strategy; records `lead.assigned` / `deal.assigned`. */
  assign<T extends { readonly id: string; readonly version: number; readonly ownerId?: string }>(op: Operation, entity: 'lead' | 'deal', record: T, strategyId: string): Promise<T>;
  /** The owner a strategy picks for a record, or `undefined` when it finds none. */
  resolveOwner(op: Operation, strategyId: string, record: unknown): Promise<{ readonly ownerId: string } | undefined>;
}

/** Checks custom values of one entity against its definitions and merges them into `existing`. */
export type CustomValuesCheck = (
  input: Readonly<Record<string, unknown>> | undefined,
  existing: CustomValues | undefined,
) => { values: Record<string, CustomFieldValue>; issues: ValidationIssue[] };

/** What core asks of the custom-fields feature. */
export interface CustomFieldHooks {
  /** A checker of `custom` values for `entity`, over the definitions current in this transaction. */
  check(op: Operation, entity: string): Promise<CustomValuesCheck>;
  /** The query type of `custom.*` paths of `entity` (`undefined`: no such field). */
  queryType(op: Operation, entity: string): Promise<(path: string) => FieldType | undefined>;
  /**
   * `queryType` from the definitions cached already, without a read (undefined when none are): a
   * field's type never changes once defined, so a cached type is current; a field defined since is
   * missing, and the caller then reads in a transaction.
   */
  cachedQueryType(entity: string): ((path: string) => FieldType | undefined) | undefined;
  /** The custom-field definitions of `entity` current in this transaction (lead scoring picks its features from them). */
  definitions(op: Operation, entity: string): Promise<readonly CustomFieldDefinition[]>;
}
