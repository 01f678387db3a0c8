import { customValuesCheck } from '../crm/custom-values.js';
import { startCause, timeFacts } from './time-triggers.js';
import * as z from 'zod/mini';
import { conflict, CrmError, isCrmError, notFound, validationError, type ValidationIssue } from '../errors/crm-error.js';
import type { CrmContext } from '../crm/context.js';
import type { Crm } from '../crm/crm.js';
import type { AccessGuard } from '../crm/access-guard.js';
import { bumpConfigRevision } from '../crm/config-revision.js';
import { FEED_SEQUENCE, runRead, runWrite, type Operation } from '../crm/operation.js';
import { copyInput, parseArgument, parseId, parseInput, safeParseInput } from '../crm/parse-input.js';
import { simulateEventSchema } from './simulate-event.js';
import { cutCopies } from './simulated-copies.js';
import type { Page } from '../crm/list-options.js';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import type { Pipeline } from '../schema/pipeline.js';
import { feedHead } from '../consumers/feed-read.js';
import { retryConcurrent } from '../crm/retry-concurrent.js';
import { consumerPartitions, newPartitionRows } from '../consumers/consumer-rows.js';
import type { ResolvedConsumer } from '../consumers/consumer-options.js';
import type { ConsumerRunner, DrainReport } from '../consumers/consumer-runner.js';
import { jsonBytes, jsonIssue } from './json-issue.js';
import { MAX_RULE_BYTES, MAX_RULES, ruleInputSchema, type AutomationRule, type AutomationRuleDefinition, type AutomationRuleInput, type AutomationRun, type RunStatus, type ActionOutcome, type AutomationCause, type AutomationEntity } from './automation-schema.js';
import { checkRule, findCycle, triggerEntity } from './check-rule.js';
import { canonicalRule } from './check-conditions.js';
import { hiddenReads } from './rule-reads.js';
import { rightsIssues } from './principal-rights.js';
import { cancelRun, cancelWaitingRuns, DISABLED } from './cancel-run.js';
import type { RecordBase } from '../schema/record.js';
import { describeError, executeRun, runIdOf, type RunSettings } from './execute-run.js';
import { matchEvent } from './match-trigger.js';
import { causeCheckedStorage, checkCauseShape, verifyCause } from './verify-cause.js';
import type { AutomationSettings } from './automation-settings.js';
import { FEED_CONSUMER } from './automation-settings.js';
import { insertMany } from '../crm/feature-writes.js';

/** JSON with object keys sorted: the same trigger written in another key order is the same trigger. */
const canonical = (value: unknown): string => JSON.stringify(value, (_, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));

/** What `simulate` found: whether the rule would run, and what it would do. Nothing is written. */
export interface Simulation {
  /** The trigger matched and the conditions held (or the run would be skipped: see `status`). */
  readonly matched: boolean;
  readonly status?: RunStatus;
  readonly actions: readonly ActionOutcome[];
  readonly reason?: string;
  readonly error?: AutomationRun['error'];
  /** The events the run would record (its actions' and `automation.ran`). */
  readonly events: readonly CrmEvent[];
}

/** The fields `crm.automations.update` changes (and the version read, for a concurrency check). */
export type AutomationRulePatch = Partial<Omit<AutomationRuleInput, 'id'>> & { readonly version?: number };

/** The definition part of a stored rule (what `define` takes). */
function definitionOf(rule: AutomationRule): AutomationRuleInput {
  return {
    id: rule.id, name: rule.name, ...(rule.description ? { description: rule.description } : {}), enabled: rule.enabled,
    trigger: rule.trigger, conditions: [...rule.conditions], actions: [...rule.actions], ...(rule.rateLimit ? { rateLimit: rule.rateLimit } : {}),
  } as AutomationRuleInput;
}

/** Options of `crm.automations.runs`. */
export interface RunListOptions {
  readonly ruleId?: string;
  /** Runs for one record (a view must give it, and must be able to read the record). */
  readonly record?: { readonly type: AutomationEntity; readonly id: string };
  /** Only runs with this status (`failed`: retried ones have `resumeAt`, parked ones not). */
  readonly status?: RunStatus;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Automation rules of a tenant: `crm.automations` (the `automations()` feature). */
export interface AutomationService {
  /**
   * Creates a rule, or edits it when `id` names a stored one (its `revision` grows; runs keep the
   * revision they ran). Checked against the tenant: known events and fields, actions that fit the
   * record type and the pipelines' rules, no cycle with the enabled rules, at most 16 KB.
   *
   * @param input `{ id?, name, description?, enabled?, trigger, conditions?, actions, rateLimit? }` (see `AutomationRuleInput`).
   * @returns The stored rule.
   * @throws CrmError `VALIDATION` for a malformed or oversized rule, an unknown event, field, stage or lost
   *   reason, an action the record type or the pipeline's rules do not allow, or a cycle of rules
   *   (issue path `actions`, the rule names in the message); `VALIDATION` `not_found` for an assignment
   *   strategy that does not exist (at its path); `NOT_FOUND` when `id` names no stored rule;
   *   `FORBIDDEN` on a view with access control.
   * @example
   * await crm.automations.define({
   *   name: 'Call after proposal',
   *   trigger: { type: 'stageEntered', stage: 'proposal' },
   *   actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 2, unit: 'businessDays' } } }],
   * });
   */
  define(input: AutomationRuleInput | AutomationRule): Promise<AutomationRule>;
  /**
   * Edits a stored rule: `patch` replaces the fields it gives (`undefined` removes an optional one),
   * checked as `define` checks a rule. A `version` in the patch is the version the caller read.
   *
   * @param id The rule's id.
   * @param patch `{ name?, description?, enabled?, trigger?, conditions?, actions?, rateLimit?, version? }`.
   * @returns The stored rule (a new revision).
   * @throws CrmError `NOT_FOUND` for an unknown id; `CONFLICT` when the rule changed since `version` (without
   *   one, the patch applies to the rule as stored when it is written);
   *   `VALIDATION` as `define`.
   * @example
   * const rule = await crm.automations.update(id, { name: 'Call after proposal (2 days)' });
   */
  update(id: string, patch: AutomationRulePatch): Promise<AutomationRule>;
  /**
   * A rule by id. A rule says what it writes (an owner, a tag, an amount) and tests: configuration of the
   * crm itself, read there as it is defined there.
   * @throws CrmError `NOT_FOUND`; `FORBIDDEN` on a view with access control.
   */
  get(id: string): Promise<AutomationRule>;
  /** Every rule of the tenant, oldest first. @throws CrmError `FORBIDDEN` on a view with access control (as `get`). */
  list(): Promise<AutomationRule[]>;
  /**
   * The crm (this view, if called on one) writing on behalf of an event: every event its writes record
   * carries the event's `cause`, so a host handler that writes because of an automation's event stays
   * in that chain — a rule never runs twice in it, and the depth limit counts its runs. Use it in
   * `crm.on(...)` handlers and feed consumers that write; an event no automation caused has no cause,
   * and the crm returned then writes as the crm itself does.
   *
   * @param event The event being handled (as handed to the handler).
   * @returns A crm with every service and feature (type it with the crm's own type: `causedBy<typeof crm>(event)`).
   * @throws CrmError `VALIDATION` at `event.cause.*` for a cause no stored run of the tenant recorded
   *   (depth and chain shape now; the run itself on the first write, which then writes nothing).
   * @example
   * crm.on('custom.quoteRequested', (event) => {
   *   void crm.automations.causedBy<typeof crm>(event).deals.update(event.subjectId, { tags: ['quoted'] });
   * });
   */
  causedBy<C extends object = Crm>(event: CrmEvent): C;
  /**
   * Turns a rule on, checked again as `define` checks it (stages, task types, strategies, custom fields,
   * the service principal's rights and read fields may have changed while it was off).
   * @throws CrmError `NOT_FOUND`; `VALIDATION` as `define` (a cycle, a stage that is gone …), the rule staying off.
   */
  enable(id: string): Promise<AutomationRule>;
  /**
   * Turns a rule off: it sees no further triggers until enabled, and its waiting runs (a `wait` not yet
   * over) are cancelled — status `cancelled`, reason `cancelled: the rule was disabled`, on the record's
   * timeline — in the same transaction: a rule that is off acts no more. (An edit, by contrast, lets
   * waiting runs continue with the revision they started with.)
   *
   * @throws CrmError `NOT_FOUND`.
   */
  disable(id: string): Promise<AutomationRule>;
  /**
   * Runs a rule with a `manual` trigger for one record now (a UI button), as the service principal.
   *
   * @returns The run (status `done`, `waiting`, `skipped` or `failed` with the error), or `undefined` when the conditions did not hold.
   * The run acts with the service principal's rights, whatever the view's (rules are defined by the
   * crm itself: a manual rule is an action its author allows); on a view, its conditions may test only
   * fields the view reads.
   *
   * @throws CrmError `NOT_FOUND` for an unknown rule or a record the caller cannot read; `FORBIDDEN` on a
   *   view when a condition tests a field it cannot read; `VALIDATION`
   *   when the rule's trigger is not `manual` for that record type, or it is disabled.
   */
  trigger(ruleId: string, record: { readonly type: AutomationEntity; readonly id: string }): Promise<AutomationRun | undefined>;
  /**
   * What a rule (stored, by id, or a definition) would do for an event, writing nothing: its actions
   * run through the services in a transaction that is rolled back.
   *
   * A manual or time rule (`timeInStage`, `taskDue`) is simulated for the event's record: matched
   * when a tick would fire it now.
   *
   * @param event An event as recorded, or `{ type, subjectType, subjectId, data? }` (checked against the event log's schema).
   * @throws CrmError `VALIDATION` for a malformed rule or event (at its path under `event`), or an event of another record type than
   *   a manual or time rule's (at `event.subjectType`); `NOT_FOUND` on a view for an event whose
   *   record the view cannot read (as `trigger` and `runs`).
   * @example
   * const sim = await crm.automations.simulate(rule, event);
   * expect(sim.actions.map((a) => a.type)).toEqual(['createTask']);
   */
  simulate(rule: AutomationRuleInput | string, event: CrmEvent): Promise<Simulation>;
  /**
   * Tries parked runs again — runs of events that failed `maxAttempts` times (`runs({ ruleId, status:
   * 'failed' })`, no `resumeAt`) — after fixing what made them fail: the next `drain()` or `tick()`
   * runs them, and the run-log entry is replaced when they succeed.
   *
   * @param eventIds The events (the runs' `eventId`).
   * @returns How many were put back. @throws CrmError `NOT_FOUND` for an event with no parked run of this rule.
   */
  replay(ruleId: string, eventIds: readonly string[]): Promise<number>;
  /** Gives up parked runs for good (status `cancelled`, on the record's timeline). @throws CrmError `NOT_FOUND` as `replay`. */
  discard(ruleId: string, eventIds: readonly string[]): Promise<number>;
  /**
   * The run log, newest first: of a rule, of a record, or all. On a view with access control: of one
   * record it reads, each run projected as its `automation.ran` event (hidden details left out) and
   * without the continuation of a waiting or failed run (`plan`, `resumeFrom`: the rule's actions).
   * @throws CrmError `FORBIDDEN` on such a view without `record`; `NOT_FOUND` for a record it cannot read.
   */
  runs(options?: RunListOptions): Promise<Page<AutomationRun>>;
  /** Evaluates time triggers and continues ended waits (the scheduler's tick calls it). */
  tick(): Promise<{ readonly runs: number }>;
  /** Handles every triggering event available now in this process (jobs, scripts, tests), messages included. */
  drain(): Promise<DrainReport>;
  /** Runs the rules' consumers in the background (every process that calls it shares the work). */
  start(): void;
  /** Stops the background work. */
  stop(): Promise<void>;
}

const runListSchema = z.strictObject({
  ruleId: z.optional(z.string().check(z.maxLength(64))),
  status: z.optional(z.enum(['done', 'waiting', 'skipped', 'failed', 'cancelled'])),
  record: z.optional(z.strictObject({ type: z.enum(['lead', 'contact', 'company', 'deal', 'task', 'activity']), id: z.string().check(z.minLength(1), z.maxLength(64)) })),
  limit: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))),
  cursor: z.optional(z.string().check(z.maxLength(4096))),
});
const idsSchema = z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.minLength(1), z.maxLength(1000));
const recordRefSchema = z.strictObject({ type: z.enum(['lead', 'contact', 'company', 'deal', 'task', 'activity']), id: z.string().check(z.minLength(1), z.maxLength(64)) });

/** Fields of a stored rule that `define` takes back as read (`{ ...crm.automations.get(id) }`) but never sets. */
const READ_ONLY = ['tenantId', 'version', 'createdAt', 'updatedAt', 'revision', 'triggerType', 'since'] as const;

/** A definition and what a read rule handed back to `define` says about the stored one. */
interface ParsedRule {
  readonly def: AutomationRuleDefinition;
  /** The `version` of the rule as read: an edit of a rule changed since is a `CONFLICT`. */
  readonly version?: number;
  readonly tenantId?: unknown;
}

/** Parses and size-checks a rule definition; the read shape of a rule is accepted (its stored fields set aside). */
export function parseRule(input: unknown, context: string): ParsedRule {
  // Plain JSON first: a bigint or a cycle would throw a TypeError from the size check below.
  const notJson = jsonIssue(input);
  if (notJson) {
    // The schema's word where it has one at that place (a NaN name: "expected string").
    let precise: ValidationIssue | undefined;
    try {
      parseInput(ruleInputSchema, input, context);
    } catch (error) {
      precise = (error as { details?: { issues?: ValidationIssue[] } }).details?.issues?.find((i) => i.path.join('.') === notJson.path.join('.'));
    }
    // A NaN / Infinity where a number goes: the schema would only say "required number" (or name a union's last branch).
    throw validationError(context, [(precise && !takesNumber(input, notJson.path)) ? precise : notJson]);
  }
  const size = jsonBytes(input);
  if (size > MAX_RULE_BYTES) throw validationError(context, [{ path: [], code: 'too_big', message: `a rule may be at most ${MAX_RULE_BYTES} bytes as UTF-8 JSON (this one is ${size})` }]);
  if (!input || typeof input !== 'object' || Array.isArray(input)) return { def: canonicalDef(parseInput(ruleInputSchema, input, context), context) };
  const plain: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  const read: Record<string, unknown> = {};
  for (const key of READ_ONLY) {
    if (key in plain) read[key] = plain[key];
    delete plain[key];
  }
  const version = read.version;
  if (version !== undefined && !(Number.isInteger(version) && (version as number) > 0)) throw validationError(context, [{ path: ['version'], code: 'invalid_type', message: 'must be the version of the rule as read (a positive integer)' }]);
  return { def: canonicalDef(parseInput(ruleInputSchema, plain, context), context), ...(version !== undefined ? { version: version as number } : {}), ...('tenantId' in read ? { tenantId: read.tenantId } : {}) };
}

/** Whether the schema takes a number where `input` holds a non-finite one (a finite one there parses). */
function takesNumber(input: unknown, path: readonly (string | number)[]): boolean {
  let copy: unknown;
  try {
    copy = structuredClone(input);
  } catch {
    return false;
  }
  let parent = copy as Record<string | number, unknown> | undefined;
  for (const key of path.slice(0, -1)) parent = parent?.[key] as Record<string | number, unknown> | undefined;
  const key = path.at(-1);
  if (key === undefined || !parent || typeof parent[key] !== 'number') return false;
  parent[key] = 1;
  const result = safeParseInput(ruleInputSchema, copy);
  return result.success || !result.issues.some((i) => i.path.join('.') === path.join('.'));
}

/** The rule with its times in stored form (`canonicalRule`); `VALIDATION` for a value that names no time. */
function canonicalDef(def: AutomationRuleDefinition, context: string): AutomationRuleDefinition {
  const { rule, issues } = canonicalRule(def, triggerEntity(def.trigger));
  if (issues.length) throw validationError(context, issues);
  return rule;
}

/** Every rule of the tenant, oldest first (one page: at most `MAX_RULES`). */
export async function allRules(op: Operation): Promise<AutomationRule[]> {
  const { rows } = await op.query<AutomationRule>('automationRule', { sort: [{ field: 'createdAt' }, { field: 'id' }], limit: MAX_RULES });
  return rows;
}

/** Every pipeline of the tenant, as stored in the operation's transaction. */
export async function allPipelines(op: Operation): Promise<Pipeline[]> {
  return (await op.query<Pipeline>('pipeline', { limit: 1000 })).rows;
}

/**
 * The assignment strategies a rule names (`assignOwner.strategyId`, a task's `strategy` assignee):
 * each must exist and need the assignment feature, as a pipeline's task templates do.
 */
async function checkStrategies(op: Operation, def: AutomationRuleDefinition): Promise<ValidationIssue[]> {
  const refs: { id: string; path: (string | number)[]; owns: boolean }[] = [];
  def.actions.forEach((action, i) => {
    if (action.type === 'assignOwner' && action.strategyId) refs.push({ id: action.strategyId, path: ['actions', i, 'strategyId'], owns: true });
    if (action.type === 'createTask' && action.task.assignee?.kind === 'strategy') refs.push({ id: action.task.assignee.strategyId, path: ['actions', i, 'task', 'assignee', 'strategyId'], owns: false });
  });
  if (refs.length === 0) return [];
  if (!op.ctx.hooks.assignment) return refs.map((r) => ({ path: r.path, code: 'feature_required', message: 'an assignment strategy needs the assignment() feature from @crmkit/core/assignment' }));
  const rows = await op.getMany<RecordBase & { entity?: string }>('assignmentStrategy', refs.map((r) => r.id));
  const entity = triggerEntity(def.trigger);
  return refs.flatMap((r, i): ValidationIssue[] => {
    const strategy = rows[i];
    if (!strategy) return [{ path: r.path, code: 'not_found', message: `assignmentStrategy ${r.id} does not exist` }];
    // An owner comes from a strategy for the record's own type (a task's assignee may use any).
    if (r.owns && strategy.entity && strategy.entity !== entity) return [{ path: r.path, code: 'invalid_value', message: `assignment strategy ${r.id} assigns ${strategy.entity} records, not ${entity} records` }];
    return [];
  });
}

/**
 * Actions that need what the tenant lacks (they would fail every run): a task without the tasks()
 * feature or of an unknown task type, an activity without the activities() feature, a message nothing
 * sends (no messenger), a link (`contactId`, `companyId`) to a record that does not exist; and a rule
 * about tasks or activities without their feature (it would never run).
 */
async function actionIssues(op: Operation, def: AutomationRuleDefinition, sends: boolean): Promise<ValidationIssue[]> {
  const issues: ValidationIssue[] = [];
  const { tasks, activities } = op.ctx.hooks;
  const entity = triggerEntity(def.trigger);
  if ((entity === 'task' && !tasks) || (entity === 'activity' && !activities)) issues.push({ path: ['trigger'], code: 'feature_required', message: `rules about ${entity} records need the ${entity === 'task' ? 'tasks' : 'activities'}() feature (there would be none)` });
  for (const [i, action] of def.actions.entries()) {
    if (action.type === 'sendMessage' && !sends) issues.push({ path: ['actions', i, 'type'], code: 'feature_required', message: "sending a message needs a messenger: automations({ messenger }), or messenger: 'external' when your own consumer or a webhook delivers automation.message events" });
    if (action.type === 'createTask') {
      const types = tasks && (await tasks.typeKeys(op));
      if (!types) issues.push({ path: ['actions', i, 'type'], code: 'feature_required', message: 'creating a task needs the tasks() feature' });
      else if (!types.includes(action.task.type)) issues.push({ path: ['actions', i, 'task', 'type'], code: 'invalid_value', message: `unknown task type "${action.task.type}" (known: ${types.join(', ')})` });
    }
    if (action.type === 'logActivity' && !op.ctx.hooks.activities) issues.push({ path: ['actions', i, 'type'], code: 'feature_required', message: 'logging an activity needs the activities() feature' });
    if (action.type !== 'updateFields') continue;
    for (const entity of ['contact', 'company'] as const) {
      const id = action.set[`${entity}Id`];
      if (typeof id === 'string' && !(await op.getMany(entity, [id]))[0]) issues.push({ path: ['actions', i, 'set', `${entity}Id`], code: 'not_found', message: `${entity} ${id} does not exist` });
    }
  }
  return issues;
}

/**
 * The custom fields a rule names (`custom.*` in its field trigger and conditions, `updateFields`'
 * `custom` values) checked against the tenant's definitions: an unknown one would never match, or
 * fail every run.
 */
async function customFieldIssues(op: Operation, def: AutomationRuleDefinition): Promise<ValidationIssue[]> {
  const entity = triggerEntity(def.trigger);
  const hook = op.ctx.hooks.customFields;
  // Each with the values tested against it (a field trigger's from / to, a condition's value but for `present`).
  const named: { path: (string | number)[]; field: string; values: unknown[] }[] = [];
  const { trigger } = def;
  if (trigger.type === 'fieldChanged' && trigger.field.startsWith('custom.')) named.push({ path: ['trigger', 'field'], field: trigger.field, values: [trigger.from, trigger.to] });
  (def.conditions ?? []).forEach((c, i) => c.field.startsWith('custom.') && named.push({ path: ['conditions', i, 'field'], field: c.field, values: c.op === 'present' ? [] : [c.value].flat() }));
  const issues: ValidationIssue[] = [];
  if (named.length) {
    const typeOf = hook ? await hook.queryType(op, entity) : () => undefined;
    for (const { path, field, values } of named) {
      const type = typeOf(field);
      if (!type) issues.push({ path, code: 'unknown_field', message: `"${field}" is not a custom field of ${entity} records${hook ? '' : ' (custom fields need the customFields() feature)'}` });
      // A value of another type than the field's can never be its value (never equal, never ordered against it).
      const wrong = values.filter((v) => v != null && typeof v !== (type === 'string[]' ? 'string' : type));
      if (type && wrong.length) issues.push({ path: path[0] === 'trigger' ? ['trigger'] : [...path.slice(0, 2), 'value'], code: 'invalid_value', message: `${wrong.map((v) => JSON.stringify(v)).join(', ')} is not a value "${field}" (${type}) can hold: the ${path[0] === 'trigger' ? 'rule would never fire' : 'condition would never hold'}` });
    }
  }
  for (const [i, action] of def.actions.entries()) {
    const custom = action.type === 'updateFields' ? (action.set as { custom?: unknown }).custom : undefined;
    if (!custom || typeof custom !== 'object') continue;
    const check = await customValuesCheck(op, entity);
    // As an update of a stored record: null clears a value; only the keys the rule sets are judged.
    const keys = Object.keys(custom);
    const judged = check(custom as Record<string, unknown>, {}).issues.filter((issue) => keys.includes(String(issue.path[1])));
    issues.push(...judged.map((issue) => ({ ...issue, path: ['actions', i, 'set', ...issue.path] })));
  }
  return issues;
}

/**
 * Runs (or what `simulate` found) as the view may see them: projected as their `automation.ran` events
 * are, by the access feature's one event projection (action details of hidden fields, refs to hidden
 * records, error details dropped) — and, like those events, without the continuation a waiting or failed
 * run keeps (`plan`: the rule's actions, whose fixed values — an owner, a tag, an amount — may be a
 * hidden field's; `resumeFrom`: a place in it). Unchanged on the crm itself or without a policy.
 */
async function viewRuns<T extends Pick<AutomationRun, 'subjectType' | 'subjectId' | 'actions'>>(op: Operation, runs: readonly T[]): Promise<T[]> {
  const { principal, hooks } = op.ctx;
  const guard = principal && hooks.access ? await hooks.access.guard(op.tx, principal) : undefined;
  if (!guard) return [...runs];
  const bare = runs.map(({ plan: _plan, resumeFrom: _from, ...run }: T & Pick<AutomationRun, 'plan' | 'resumeFrom'>) => run);
  const events = bare.map((run) => ({ id: '', type: 'automation.ran', subjectType: run.subjectType, subjectId: run.subjectId, data: run, refs: run.actions.flatMap((a) => (a.ref ? [a.ref] : [])) }) as unknown as CrmEvent);
  const judged = await hooks.access!.judgeEvents(guard, events, (entity, ids) => op.getMany(entity, ids));
  // A record the view no longer reads (a run reassigned it): what was done, not to what.
  return bare.map((run, i) => ((judged[i]?.data ?? { ...run, actions: run.actions.map(({ type }) => ({ type })), error: undefined }) as unknown as T));
}

/** FORBIDDEN: a simulated outcome would depend on what the view cannot read. */
function hiddenInput(what: string): CrmError {
  return new CrmError('FORBIDDEN', `automations.simulate: the outcome depends on ${what}, which this view cannot read`, { action: 'automations.simulate', reason: what } as never);
}

/**
 * Refuses a simulation on a view whose outcome would depend on data the view cannot read: the times a
 * time trigger tests (stage entry, due time), activities (`withoutActivity`), the fields the deal's
 * pipeline's stage rules test (`advance` / `lose` pass them or fail) and the tasks `requiredTasksDone` counts.
 *
 * @throws CrmError `FORBIDDEN`.
 */
async function viewMayKnow(op: Operation, guard: AccessGuard, rule: AutomationRule, subjectId: string): Promise<void> {
  const every = (entity: string) => {
    // Only a view that reads every row of the type: one hidden row would change the verdict.
    try {
      guard.require(entity, 'read');
    } catch {
      throw hiddenInput(`${entity} records`);
    }
    if (guard.readFilter(entity)) throw hiddenInput(`${entity} records`);
  };
  const { trigger } = rule;
  if (trigger.type === 'timeInStage') guard.checkReadFields('deal', ['stageKey', 'stageEnteredAt'], 'automations.simulate');
  if (trigger.type === 'taskDue') guard.checkReadFields('task', ['status', 'dueAt'], 'automations.simulate');
  if (trigger.type === 'timeInStage' && trigger.withoutActivity) every('activity');
  if (!rule.actions.some((a) => a.type === 'advance' || a.type === 'lose')) return;
  const deal = await op.get<RecordBase & { pipelineId?: string }>('deal', subjectId);
  const pipeline = deal?.pipelineId ? await op.get<Pipeline>('pipeline', deal.pipelineId) : undefined;
  const SHORTHAND: Record<string, string> = { hasContact: 'contactId', hasCompany: 'companyId', hasLineItems: 'lineItems', amountPositive: 'value' };
  const fields = new Set<string>();
  for (const stage of pipeline?.stages ?? []) {
    for (const r of [...stage.entryRules, ...stage.exitRules]) {
      if (r.type === 'field') fields.add(r.field);
      else if (r.type === 'requiredTasksDone') every('task');
      else fields.add(SHORTHAND[r.type]!);
    }
  }
  guard.checkReadFields('deal', fields, 'automations.simulate');
}

/** Everything `define`, `enable` and `simulate` check against the tenant, as one list of issues. */
async function tenantIssues(op: Operation, def: AutomationRuleDefinition, settings: Pick<AutomationSettings, 'principal' | 'sends'>): Promise<ValidationIssue[]> {
  const { principal } = settings;
  const issues = [...checkRule(def, await allPipelines(op), { stageTasks: Boolean(op.ctx.hooks.tasks) }), ...(await checkStrategies(op, def)), ...(await actionIssues(op, def, settings.sends))];
  // Runs see the record and the trigger as the service principal: a rule may read only what it may read.
  const guard = op.ctx.hooks.access && (await op.ctx.hooks.access.guard(op.tx, principal));
  for (const { path, what } of hiddenReads({ trigger: def.trigger, conditions: def.conditions ?? [] }, triggerEntity(def.trigger), guard)) {
    const why = path[0] === 'trigger' ? 'the rule would fire on what it cannot see' : 'the condition would never hold';
    issues.push({ path: [...path], code: 'invalid_value', message: `the service principal "${principal.userId}" may not read ${what} (access policy): ${why}` });
  }
  // One issue per path: a custom path refused already (e.g. into the prototype) is not also "unknown",
  // an action the record type does not take not also forbidden.
  const paths = new Set(issues.map((i) => i.path.join('.')));
  return [...issues, ...[...(await customFieldIssues(op, def)), ...rightsIssues(def, triggerEntity(def.trigger), guard)].filter((i) => !paths.has(i.path.join('.')))];
}

/** The stored rule built from a definition (not written). */
export function ruleRecord(op: Operation, def: AutomationRuleDefinition, previous: AutomationRule | undefined, since: number): AutomationRule {
  return {
    id: previous?.id ?? def.id ?? op.newId('automationRule'), tenantId: op.tenantId, version: (previous?.version ?? 0) + 1,
    createdAt: previous?.createdAt ?? op.now, updatedAt: op.now,
    name: def.name, ...(def.description ? { description: def.description } : {}), enabled: def.enabled ?? previous?.enabled ?? true,
    revision: (previous?.revision ?? 0) + 1, triggerType: def.trigger.type, trigger: def.trigger, conditions: def.conditions ?? [], actions: def.actions,
    ...(def.rateLimit ? { rateLimit: def.rateLimit } : {}), since,
  };
}

/**
 * The feed head under the feed's lock: reserves the operation's first event position now (held until
 * commit, as every reservation), so every event above the head returned commits after this operation.
 * Called late, after writes to rows other writers lock; the operation records an event (which takes it).
 */
async function lockedFeedHead(op: Operation): Promise<number> {
  op.feedFrom ??= await op.tx.nextSequence(FEED_SEQUENCE, op.tenantId, 1);
  return op.feedFrom - 1;
}

function refuseCycle(context: string, cycle: readonly string[]): CrmError<'VALIDATION'> {
  return validationError(context, [{ path: ['actions'], code: 'cycle', message: `the rules would trigger each other in a loop: ${cycle.join(' → ')}` }]);
}

/** The parked runs (failed, no retry left) of a rule for these events; `NOT_FOUND` for an event without one. */
async function parkedRuns(op: Operation, ruleId: string, eventIds: readonly string[]): Promise<AutomationRun[]> {
  const runs = await op.getMany<AutomationRun>('automationRun', eventIds.map((e) => runIdOf(ruleId, e)));
  return runs.map((run, i) => {
    if (!run || run.status !== 'failed' || run.resumeAt) throw notFound('parked automation run', `${ruleId}/${eventIds[i]}`);
    return run;
  });
}

/**
 * A rule read before another edit (its `version` older than the stored one): the caller's conflict.
 * Rules are written only under the rules' counter, so no internal writer makes one.
 */
const staleRead = (error: unknown): boolean => isCrmError(error, 'CONFLICT') && error.details.entity === 'automationRule';

/** Builds `crm.automations` for a context. */
export function createAutomationService(
  ctx: CrmContext,
  settings: AutomationSettings,
  runtime: { readonly runners: readonly ConsumerRunner[]; readonly run: RunSettings; readonly feed: ResolvedConsumer; tick(): Promise<{ runs: number }>; retry(): Promise<number>; readonly retries: { start(): void; stop(): Promise<void> }; invalidate(): void },
): AutomationService {
  const trusted = (context: string) => {
    if (ctx.principal && ctx.hooks.access) throw new CrmError('FORBIDDEN', `${context}: automation rules are configured on the crm itself, not on a view`, { action: context, reason: 'rules act as the service principal' } as never);
  };
  const require = async (op: Operation, id: string) => {
    const rule = await op.get<AutomationRule>('automationRule', id);
    if (!rule) throw notFound('automationRule', id);
    return rule;
  };
  /**
   * Stores the rule `change` builds (`fresh`: it starts with the events from now) after the checks
   * every rule passes. `since` is the feed head under the feed's lock, taken last: every event above it
   * commits after the rule, so a process whose rule cache is fresh up to such an event sees the rule.
   *
   * Lock order (every automation write keeps it, so none waits in a circle on PostgreSQL): the rules'
   * counter, the configuration revision, run rows (cancelled waiting runs), the rule, and the feed's
   * counter last — as a run locks its records, then its run row, then the feed (`scopedStorage`). A
   * concurrent writer's conflict or deadlock (a continuation that got to a waiting run first) runs the
   * whole transaction again (`retryConcurrent`); a stale `version` of the caller's is final.
   */
  const save = async (context: string, change: (op: Operation, rules: AutomationRule[]) => Promise<{ next: AutomationRule; previous?: AutomationRule; fresh: boolean }>) => {
    trusted(context);
    const rule = await retryConcurrent(ctx, () => runWrite(ctx, async (op) => {
      // Held until commit: concurrent edits (other connections, processes) wait and then read the
      // rules this one stored, so two defines cannot both pass the maximum or the cycle check.
      await op.tx.nextSequence('automationRules', op.tenantId, 1);
      const rules = await allRules(op);
      const { next: draft, previous, fresh } = await change(op, rules);
      if (draft.enabled) {
        const cycle = findCycle(draft, rules.filter((r) => r.enabled), await allPipelines(op));
        if (cycle) throw refuseCycle(context, cycle);
      }
      // The rules' one feed consumer exists from the first rule on. It may start at a head read without
      // the lock: the rule's `since` below is at least that, so it never needs an event skipped.
      if ((await consumerPartitions(op, FEED_CONSUMER)).length === 0) await insertMany(op, 'consumer', newPartitionRows(op, runtime.feed, await feedHead(op), false));
      await bumpConfigRevision(op);
      if (previous && !draft.enabled) await cancelWaitingRuns(op, draft.id, DISABLED);
      const next = fresh ? { ...draft, since: await lockedFeedHead(op) } : draft;
      if (previous) await op.update('automationRule', previous, next);
      else await op.insert('automationRule', next);
      op.record('automation.defined' as CrmEventName, { type: 'automationRule', id: next.id }, { rule: next } as never);
      return next;
    }), staleRead);
    runtime.invalidate();
    return rule;
  };
  const setEnabled = (id: string, enabled: boolean, context: string) =>
    save(context, async (op) => {
      const previous = await require(op, parseId(id, context));
      // Switched on again: checked as define checks it (the pipelines, task types, strategies, custom fields
      // or the service principal's policy may have changed while it was off) …
      if (enabled && !previous.enabled) {
        const issues = await tenantIssues(op, definitionOf(previous) as AutomationRuleDefinition, settings);
        if (issues.length) throw validationError(context, issues);
      }
      // … and it starts with the events from now, not those of the time it was off.
      return { next: { ...previous, enabled, version: previous.version + 1, updatedAt: op.now }, previous, fresh: enabled && !previous.enabled };
    });

  return {
    async define(input) {
      const { def, version, tenantId } = parseRule(input, 'automations.define');
      if (tenantId !== undefined && tenantId !== ctx.tenantId) throw validationError('automations.define', [{ path: ['tenantId'], code: 'invalid_value', message: `a rule of tenant "${String(tenantId)}" cannot be defined in tenant "${ctx.tenantId}"` }]);
      return save('automations.define', async (op, rules) => {
        const previous = def.id ? rules.find((r) => r.id === def.id) : undefined;
        // An id edits a stored rule; it never names a new one (a typo would fork the rule).
        if (def.id && !previous) throw notFound('automationRule', def.id);
        // A rule as read carries its version: an edit made from a stale read must not undo a newer one.
        if (previous && version !== undefined && version !== previous.version) throw conflict('automationRule', previous.id, version, previous.version);
        // Rules are read in one page everywhere (matching, cycle checks, ticks): past the maximum, a new one would be ignored.
        if (!previous && rules.length >= MAX_RULES) throw validationError('automations.define', [{ path: [], code: 'too_big', message: `a tenant may have at most ${MAX_RULES} automation rules (edit one that is no longer needed)` }]);
        const issues = await tenantIssues(op, def, settings);
        if (issues.length) throw validationError('automations.define', issues);
        // A new, re-enabled or re-triggered rule starts with the events from now (never the backlog of its new trigger).
        const keep = previous?.enabled ? canonical(previous.trigger) === canonical(def.trigger) : def.enabled === false;
        return { next: ruleRecord(op, def, previous, previous?.since ?? 0), ...(previous ? { previous } : {}), fresh: !keep };
      });
    },

    async update(id, patch) {
      const ruleId = parseId(id, 'automations.update');
      patch = copyInput(patch, 'automations.update'); // read once, as plain data: a throwing getter is the caller's VALIDATION
      if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw validationError('automations.update', [{ path: ['patch'], code: 'invalid_type', message: 'must be an object of the fields to change' }]);
      if ('id' in patch && (patch as { id?: unknown }).id !== ruleId) throw validationError('automations.update', [{ path: ['id'], code: 'invalid_value', message: 'the id of a rule cannot change' }]);
      const edit = async () => {
        const stored = await runRead(ctx, (op) => require(op, ruleId));
        // The version read here guards the edit when the patch gives none: define refuses it if another edit landed in between …
        return this.define({ ...definitionOf(stored), ...patch, id: ruleId, version: patch.version ?? stored.version } as AutomationRuleInput);
      };
      // … and the patch is then applied to the rule as it is now; a version the caller gave is the caller's conflict.
      return retryConcurrent(ctx, edit, (error) => patch.version !== undefined || !staleRead(error));
    },

    causedBy<C extends object = Crm>(event: CrmEvent): C {
      ctx.assertOpen();
      let cause: AutomationCause | undefined;
      try {
        cause = copyInput((event as { cause?: AutomationCause } | undefined)?.cause, 'automations.causedBy');
      } catch {
        event = null as never; // unreadable: refused below
      }
      const valid = cause && typeof cause.runId === 'string' && typeof cause.ruleId === 'string' && Number.isInteger(cause.depth) && Array.isArray(cause.chain);
      if (event === null || typeof event !== 'object' || (cause !== undefined && !valid)) throw validationError('automations.causedBy', [{ path: ['event'], code: 'invalid_type', message: 'must be an event as handed to a handler (its cause, if any, as recorded)' }]);
      if (!cause) return ctx.scope!({ storage: ctx.storage, bus: ctx.bus }, ctx.principal) as C;
      const copy = { runId: cause.runId, ruleId: cause.ruleId, depth: cause.depth, chain: [...cause.chain] };
      checkCauseShape(copy, runtime.run.maxDepth, 'automations.causedBy');
      // Only a stored run's cause: checked in each write transaction (the run it names must be this tenant's).
      return ctx.scope!({ storage: causeCheckedStorage(ctx.storage, ctx.tenantId, copy), bus: ctx.bus, cause: copy }, ctx.principal) as C;
    },

    // A rule says what it writes (an owner, a tag, an amount): configuration of the crm itself, as define is.
    async get(id) {
      trusted('automations.get');
      return runRead(ctx, (op) => require(op, parseId(id, 'automations.get')));
    },
    async list() {
      trusted('automations.list');
      return runRead(ctx, allRules);
    },
    enable: (id) => setEnabled(id, true, 'automations.enable'),
    disable: (id) => setEnabled(id, false, 'automations.disable'),

    async trigger(ruleId, record) {
      const ref = parseInput(recordRefSchema, record, 'automations.trigger');
      const rule = await runRead(ctx, async (op) => {
        const found = await require(op, parseId(ruleId, 'automations.trigger'));
        await op.requireReadable(ref.type, ref.id); // a view triggers only for records it can see
        // Conditions may test only fields the view reads (as simulate): run or not would reveal the others.
        const guard = ctx.principal && ctx.hooks.access ? await ctx.hooks.access.guard(op.tx, ctx.principal) : undefined;
        guard?.checkReadFields(ref.type, found.conditions.map((c) => c.field).filter((f) => f !== 'trigger' && !f.startsWith('trigger.')), 'automations.trigger');
        return found;
      });
      if (rule.trigger.type !== 'manual' || rule.trigger.entity !== ref.type) {
        throw validationError('automations.trigger', [{ path: ['ruleId'], code: 'invalid_value', message: `rule "${rule.name}" has no manual trigger for ${ref.type} records` }]);
      }
      if (!rule.enabled) throw validationError('automations.trigger', [{ path: ['ruleId'], code: 'invalid_value', message: `rule "${rule.name}" is disabled` }]);
      const request = { rule, triggerKey: `manual:${ctx.newId('event', ctx.clock.now())}`, subject: ref, facts: { type: 'manual' }, rematch: () => ({ type: 'manual' }) };
      let run: AutomationRun | undefined;
      try {
        run = (await executeRun(ctx, runtime.run, request)).run;
      } catch (error) {
        if (isCrmError(error, 'CLOSED')) throw error;
        run = (await executeRun(ctx, runtime.run, { ...request, failure: error })).run;
      }
      return run && (await runRead(ctx, (op) => viewRuns(op, [run])))[0];
    },

    async simulate(input, event) {
      const rule =
        typeof input === 'string'
          ? await runRead(ctx, (op) => require(op, parseId(input, 'automations.simulate')))
          : await runRead(ctx, async (op) => {
              const { def } = parseRule(input, 'automations.simulate');
              const issues = await tenantIssues(op, def, settings);
              if (issues.length) throw validationError('automations.simulate', issues);
              return ruleRecord(op, def, undefined, 0);
            });
      // The event log's schema (a copy: the caller's object is read once); issue paths under `event`.
      const parsed = safeParseInput(simulateEventSchema(), event);
      if (!parsed.success) throw validationError('automations.simulate', parsed.issues.map((i) => ({ ...i, path: ['event', ...i.path] })));
      event = { ...parsed.data, data: parsed.data.data ?? {}, refs: parsed.data.refs ?? [] } as typeof event;
      const cause = (event as { cause?: AutomationCause }).cause;
      if (cause) {
        checkCauseShape(cause, runtime.run.maxDepth, 'automations.simulate');
        // A view simulates only with a stored run's cause (the crm itself may try a hypothetical chain).
        if (ctx.principal) await runRead(ctx, (op) => verifyCause(op.tx, ctx.tenantId, cause, 'automations.simulate'));
      }
      let guard: AccessGuard | undefined;
      const access = ctx.hooks.access;
      if (ctx.principal && access) {
        // A view simulates only for records it can read: the run reads the record as the service
        // principal, so its verdict and events would reveal what the view may not see.
        guard = await runRead(ctx, async (op) => {
          await op.requireReadable(event.subjectType, event.subjectId);
          return access.guard(op.tx, ctx.principal!);
        });
        // Conditions may test only fields the view reads (as list filters): the verdict would reveal the others.
        const fields = rule.conditions.map((c) => c.field).filter((f) => f !== 'trigger' && !f.startsWith('trigger.'));
        guard?.checkReadFields(event.subjectType, fields, 'automations.simulate');
        if (guard) await runRead(ctx, (op) => viewMayKnow(op, guard!, rule, event.subjectId));
      } else if (event.type !== `${event.subjectType}.removed` && !(await runRead(ctx, (op) => op.get(event.subjectType, event.subjectId)))) {
        // (A removed record's rule runs on the record its event carries.)
        throw notFound(event.subjectType, event.subjectId);
      }
      // The simulated events as the view may see them (field-projected; hidden ones left out).
      const visible = async (events: readonly CrmEvent[]): Promise<readonly CrmEvent[]> => {
        if (!guard || !access) return events;
        const judged = await runRead(ctx, (op) => access.judgeEvents(guard, events, (entity, ids) => op.getMany(entity, ids)));
        // Each record is projected by its own entity's rules: a task keeps the deal's hidden owner it copied.
        return cutCopies(judged.filter((e): e is CrmEvent => e !== undefined), event.subjectType, guard);
      };
      // Manual and time rules run for a record of their type: the event names it (a manual rule as `trigger`
      // runs it; a time rule as a tick would now: in the stage long enough, the task within its lead time).
      const { trigger } = rule;
      const direct = trigger.type === 'manual' || trigger.type === 'timeInStage' || trigger.type === 'taskDue';
      if (direct && event.subjectType !== triggerEntity(trigger)) {
        throw validationError('automations.simulate', [{ path: ['event', 'subjectType'], code: 'invalid_value', message: `a ${trigger.type} rule runs for ${triggerEntity(trigger)} records, not for ${String(event.subjectType)} records` }]);
      }
      const facts = trigger.type === 'manual' ? { type: 'manual' } : direct ? (await runRead(ctx, (op) => timeFacts(op, rule, event.subjectId, runtime.run.principal)))?.facts : matchEvent(trigger, event);
      if (!facts) return { matched: false, actions: [], events: [] };
      const subject = { type: event.subjectType, id: event.subjectId };
      try {
        // A time rule without a given cause takes the one a tick would (`startCause`).
        const caused = cause ? { cause } : direct && trigger.type !== 'manual' ? { causeOf: startCause(rule, subject.id, ctx.tenantId) } : {};
        const { run, events } = await executeRun(ctx, runtime.run, { rule, triggerKey: `simulate:${event.id ?? 'event'}`, subject, facts, ...caused, ...(direct ? {} : { event }), dryRun: true });
        if (!run) return { matched: false, actions: [], events: [] };
        const { actions } = (await runRead(ctx, (op) => viewRuns(op, [run])))[0]!;
        return { matched: true, status: run.status, actions, ...(run.reason ? { reason: run.reason } : {}), events: await visible(events) };
      } catch (error) {
        if (isCrmError(error, 'CLOSED')) throw error;
        const seen = (await runRead(ctx, (op) => viewRuns(op, [{ subjectType: subject.type, subjectId: subject.id, actions: [], error: describeError(error) }])))[0]!.error;
        return { matched: true, status: 'failed', actions: [], ...(seen ? { error: seen } : {}), events: [] };
      }
    },

    async runs(options = {}) {
      const parsed = parseInput(runListSchema, options, 'automations.runs');
      if (ctx.principal && ctx.hooks.access && !parsed.record) {
        throw new CrmError('FORBIDDEN', 'automations.runs: a view lists the runs of one record it can read (pass record)', { action: 'automations.runs', reason: 'the run log spans records' } as never);
      }
      return runRead(ctx, async (op) => {
        if (parsed.record) await op.requireReadable(parsed.record.type, parsed.record.id);
        const filters = [
          ...(parsed.ruleId ? [{ op: 'eq' as const, field: 'ruleId', value: parsed.ruleId }] : []),
          ...(parsed.record ? [{ op: 'eq' as const, field: 'subjectId', value: parsed.record.id }] : []),
          ...(parsed.status ? [{ op: 'eq' as const, field: 'status', value: parsed.status }] : []),
        ];
        const page = await op.query<AutomationRun>('automationRun', {
          ...(filters.length ? { filter: filters.length === 1 ? filters[0]! : { op: 'and', filters } } : {}),
          // Same-millisecond runs: the later trigger first (event ids grow with the feed), on every adapter alike.
          sort: [{ field: 'createdAt', direction: 'desc' }, { field: 'triggerKey', direction: 'desc' }, { field: 'id', direction: 'desc' }],
          limit: parsed.limit ?? 50,
          ...(parsed.cursor ? { after: parsed.cursor } : {}),
        });
        return { items: await viewRuns(op, page.rows), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
      });
    },

    async replay(ruleId, eventIds) {
      trusted('automations.replay');
      const id = parseId(ruleId, 'automations.replay');
      const ids = [...new Set(parseArgument(idsSchema, eventIds, 'automations.replay', 'eventIds'))];
      return runWrite(ctx, async (op) => {
        for (const run of await parkedRuns(op, id, ids)) await op.update('automationRun', run, { ...run, version: run.version + 1, updatedAt: op.now, attempts: 0, resumeAt: op.now });
        return ids.length;
      });
    },
    async discard(ruleId, eventIds) {
      trusted('automations.discard');
      const id = parseId(ruleId, 'automations.discard');
      const ids = [...new Set(parseArgument(idsSchema, eventIds, 'automations.discard', 'eventIds'))];
      return runWrite(ctx, async (op) => {
        for (const run of await parkedRuns(op, id, ids)) await cancelRun(op, run, 'cancelled: the failed run was discarded');
        return ids.length;
      });
    },

    tick: () => runtime.tick(),

    async drain() {
      ctx.assertOpen();
      const totals = { passes: 0, handled: 0, failed: 0, parked: 0, queued: 0, leasedElsewhere: false } as { -readonly [K in keyof DrainReport]: DrainReport[K] };
      // Failed runs whose retry time came first (their events were read already), then the feed.
      totals.handled += await runtime.retry();
      for (const runner of runtime.runners) {
        const report = await runner.drain();
        totals.passes += report.passes;
        totals.handled += report.handled;
        totals.failed += report.failed;
        totals.parked += report.parked;
        totals.queued += report.queued;
        totals.leasedElsewhere ||= report.leasedElsewhere;
        if (report.nextRetryAt && (!totals.nextRetryAt || report.nextRetryAt < totals.nextRetryAt)) totals.nextRetryAt = report.nextRetryAt;
      }
      return totals;
    },
    start() {
      ctx.assertOpen();
      for (const runner of runtime.runners) runner.start();
      runtime.retries.start();
    },
    async stop() {
      for (const runner of runtime.runners) await runner.stop();
      await runtime.retries.stop();
    },
  };
}
