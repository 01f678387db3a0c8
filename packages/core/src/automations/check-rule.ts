import type { ValidationIssue } from '../errors/crm-error.js';
import type { Pipeline } from '../schema/pipeline.js';
import type { AutomationAction, AutomationRule, AutomationRuleDefinition, AutomationTrigger } from './automation-schema.js';
import { STAGE_EVENTS, triggerEventTypes } from './match-trigger.js';
import { stageRuleIssues } from './check-stage-rules.js';
import { knownField, shapeOf, updatedField, UPDATE_SCHEMAS } from './record-fields.js';
import { TRIGGER_EVENTS } from './trigger-events.js';
import { conditionIssues } from './check-conditions.js';

/** The record type a trigger is about. */
export function triggerEntity(trigger: AutomationTrigger): string {
  switch (trigger.type) {
    case 'event':
      return trigger.event.split('.')[0]!;
    case 'fieldChanged':
    case 'manual':
      return trigger.entity;
    case 'taskDue':
      return 'task';
    default:
      return 'deal';
  }
}

/** Where to look instead, for fields only domain events (or crmkit itself) change. */
const WATCH_INSTEAD: Readonly<Record<string, string>> = {
  lead: 'an event trigger on lead.qualified, lead.disqualified or lead.converted',
  deal: 'a stageEntered / stageLeft trigger or an event trigger on deal.won, deal.lost, deal.rotting, activity.logged',
  task: 'an event trigger on task.completed, task.cancelled or task.postponed',
  activity: 'an event trigger on activity.logged (activities are never updated)',
};

/** Problems of a field trigger: a field no event changes, `from` / `to` the field cannot hold or that are the same (the rule would never fire). */
function fieldTriggerIssues(trigger: Extract<AutomationTrigger, { type: 'fieldChanged' }>, issue: (path: (string | number)[], message: string) => void): void {
  const { entity, field } = trigger;
  const schema = updatedField(entity, field);
  if (schema === undefined) {
    return void issue(['trigger', 'field'], `${entity} updates never change "${field}", so the rule would never fire: use ${WATCH_INSTEAD[entity] ?? 'a field an update changes'}`);
  }
  let leaf: unknown = schema;
  while ((leaf as { def?: { innerType?: unknown } } | null)?.def?.innerType) leaf = (leaf as { def: { innerType: unknown } }).def.innerType;
  const kind = (leaf as { def?: { type?: string } } | null)?.def?.type;
  for (const key of ['from', 'to'] as const) {
    const value = trigger[key];
    if (value === undefined || value === null || schema === null) continue;
    if (kind === 'array' || kind === 'object' || kind === 'record') issue(['trigger', key], `"${field}" is ${kind === 'array' ? 'a list' : 'an object'}: from / to compare one value (use a condition on trigger.to, or watch a part such as value.amount)`);
    else if (!schema.safeParse(value).success) issue(['trigger', key], `${JSON.stringify(value)} is no value "${field}" can hold, so the rule would never fire`);
  }
  // A change is from one value to another: from === to never happens.
  if (trigger.from !== undefined && trigger.from === trigger.to) issue(['trigger', 'to'], `from and to are both ${JSON.stringify(trigger.to)}: a change never ends where it began, so the rule would never fire`);
}

/** Fields a deal update computes from the ones given (`deals.update`): a rule setting these changes those too. */
const DERIVED: Readonly<Record<string, readonly (readonly [string, readonly string[]])[]>> = {
  deal: [
    [['value', 'lineItems', 'currency', 'exchangeRate', 'probability'].join(' '), ['value', 'weightedValue', 'probability', 'probabilityManual', 'lineItems']],
    ['expectedCloseDate', ['expectedCloseMonth']],
  ],
  // A task's due time: a day of an all-day task moves it, and both move its deadline.
  task: [['dueAt dueDate allDay', ['dueAt', 'dueDate', 'deadlineAt']]],
};

const TAGGED = ['lead', 'contact', 'company', 'deal'];
/**
 * The record types each action applies to (the others apply to every type). A task or activity passes
 * its links on (`linksOf`): the task or activity an action creates for it links to the same deal,
 * contact, company, lead (an activity also to the task). Tasks are updated and reassigned through
 * `tasks.update`; activities never change, and neither has tags.
 */
const ACTION_ENTITIES: Partial<Record<AutomationAction['type'], readonly string[]>> = {
  createTask: [...TAGGED, 'task', 'activity'],
  updateFields: [...TAGGED, 'task'],
  assignOwner: [...TAGGED, 'task'],
  addTag: TAGGED,
  removeTag: TAGGED,
  advance: ['deal'],
  lose: ['deal'],
  logActivity: [...TAGGED, 'task', 'activity'],
};

/** Event types a rule's actions can record (what can trigger other rules), with the fields they change. */
export function producedEvents(entity: string, actions: readonly AutomationAction[]): Map<string, Set<string> | 'any'> {
  const out = new Map<string, Set<string> | 'any'>();
  const add = (type: string, field?: string) => {
    const seen = out.get(type);
    if (seen === 'any') return;
    if (!field) return void out.set(type, 'any');
    out.set(type, new Set([...(seen ?? []), field]));
  };
  for (const action of actions) {
    switch (action.type) {
      case 'createTask':
        add('task.created');
        break;
      case 'updateFields': {
        const set = Object.keys(action.set);
        // Custom values merge key by key: `{ custom: { score } }` changes custom.score only.
        const custom = action.set['custom'];
        for (const field of set) {
          if (field === 'custom' && custom && typeof custom === 'object' && !Array.isArray(custom)) for (const key of Object.keys(custom)) add(`${entity}.updated`, `custom.${key}`);
          else add(`${entity}.updated`, field);
        }
        for (const [from, to] of DERIVED[entity] ?? []) if (from.split(' ').some((f) => set.includes(f))) for (const field of to) add(`${entity}.updated`, field);
        break;
      }
      case 'assignOwner':
        add(`${entity}.updated`, 'ownerId');
        if (action.strategyId) add(`${entity}.assigned`);
        break;
      case 'addTag':
      case 'removeTag':
        add(`${entity}.updated`, 'tags');
        break;
      case 'advance':
        for (const type of STAGE_EVENTS) if (type !== 'deal.created' && type !== 'deal.lost') add(type);
        add('task.created');
        break;
      case 'lose':
        add('deal.lost');
        add('task.cancelled');
        break;
      case 'logActivity':
        add('activity.logged');
        break;
      case 'emit':
        add(`custom.${action.name}`);
        break;
      default:
        break;
    }
  }
  return out;
}

/** A set of stage keys, or `any` when the analysis cannot tell. */
type StageSet = ReadonlySet<string> | 'any';

/**
 * The stages a rule's actions can move a deal out of and into. Where its trigger leaves the deal
 * (`stageEntered` / `timeInStage`: in that stage; otherwise anywhere) is followed through the actions:
 * `advance` to `toStage` enters that stage, a plain `advance` the next open stage (of the pipelines in
 * the trigger's scope), `lose` the lost stage.
 */
export function stageMoves(rule: Pick<AutomationRule, 'trigger' | 'actions'>, pipelines: readonly Pipeline[]): { readonly left: StageSet; readonly entered: StageSet } {
  const { trigger } = rule;
  const scoped = 'pipelineId' in trigger && trigger.pipelineId ? pipelines.filter((p) => p.id === trigger.pipelineId) : pipelines;
  let current: StageSet = (trigger.type === 'stageEntered' || trigger.type === 'timeInStage') ? new Set([trigger.stage]) : 'any';
  let left: StageSet = new Set<string>();
  let entered: StageSet = new Set<string>();
  const union = (a: StageSet, b: StageSet): StageSet => (a === 'any' || b === 'any' ? 'any' : new Set([...a, ...b]));
  for (const action of rule.actions) {
    if (action.type !== 'advance' && action.type !== 'lose') continue;
    left = union(left, current);
    let next: StageSet;
    if (action.type === 'lose') next = new Set(scoped.flatMap((p) => p.stages.filter((s) => s.kind === 'lost').map((s) => s.key)));
    else if (action.toStage) next = new Set([action.toStage]);
    else if (current === 'any') next = 'any';
    else {
      const from = current;
      next = new Set(scoped.flatMap((p) => {
        const open = p.stages.filter((s) => s.kind === 'open');
        return open.flatMap((s, i) => (from.has(s.key) && open[i + 1] ? [open[i + 1]!.key] : []));
      }));
    }
    entered = union(entered, next);
    current = next;
  }
  return { left, entered };
}

/**
 * The feed trigger that leads into a time trigger, for the cycle check: a `timeInStage` rule counts
 * from the deal's entry into its stage, so it is reached as a `stageEntered` rule is; a `taskDue` rule
 * from a task's creation or due-time change.
 */
function leadsInto(trigger: AutomationTrigger): AutomationTrigger {
  if (trigger.type === 'timeInStage') return { type: 'stageEntered', stage: trigger.stage, ...(trigger.pipelineId ? { pipelineId: trigger.pipelineId } : {}) };
  return trigger.type === 'taskDue' ? { type: 'fieldChanged', entity: 'task', field: 'dueAt' } : trigger;
}

/** Whether a rule's actions can start another rule (or itself): an event type it listens to, the field or stage it watches (time rules: what they count from). */
function triggers(from: Pick<AutomationRule, 'trigger' | 'actions'>, to: Pick<AutomationRule, 'trigger'>, pipelines: readonly Pipeline[]): boolean {
  const produced = producedEvents(triggerEntity(from.trigger), from.actions);
  const target = leadsInto(to.trigger);
  let hit = false;
  for (const type of [...(triggerEventTypes(target) ?? []), ...(to.trigger.type === 'taskDue' ? ['task.created'] : [])]) {
    const fields = produced.get(type);
    if (!fields) continue;
    // A changed field hits the watched one, the parts of it (value → value.amount) and what holds it.
    const watched = target.type === 'fieldChanged' ? target.field : undefined;
    if (fields === 'any' || watched === undefined || [...fields].some((f) => f === watched || watched.startsWith(`${f}.`) || f.startsWith(`${watched}.`))) hit = true;
  }
  if (!hit) return false;
  if (target.type !== 'stageEntered' && target.type !== 'stageLeft') return true;
  // Stage triggers: only a move into (out of) the watched stage, in the watched pipeline, starts the rule.
  const fromPipeline = 'pipelineId' in from.trigger ? from.trigger.pipelineId : undefined;
  if (target.pipelineId && fromPipeline && fromPipeline !== target.pipelineId) return false;
  const moves = stageMoves(from, pipelines);
  const stages = target.type === 'stageEntered' ? moves.entered : moves.left;
  return stages === 'any' || stages.has(target.stage);
}

/**
 * A chain of rules, from `rule` back to itself, in which each rule's actions can trigger the next:
 * a cycle (the new or edited rule and the tenant's enabled rules), or `undefined`. Stage moves are
 * followed through the tenant's pipelines (`stageMoves`).
 */
export function findCycle(rule: Pick<AutomationRule, 'id' | 'name' | 'trigger' | 'actions'>, others: readonly Pick<AutomationRule, 'id' | 'name' | 'trigger' | 'actions'>[], pipelines: readonly Pipeline[]): string[] | undefined {
  const all = [rule, ...others.filter((r) => r.id !== rule.id)];
  const visit = (current: (typeof all)[number], path: string[], seen: Set<string>): string[] | undefined => {
    for (const next of all) {
      if (!triggers(current, next, pipelines)) continue;
      if (next.id === rule.id) return [...path, next.name];
      if (seen.has(next.id)) continue;
      seen.add(next.id);
      const found = visit(next, [...path, next.name], seen);
      if (found) return found;
    }
    return undefined;
  };
  return visit(rule, [rule.name], new Set());
}

/** A path segment that names what every object inherits (`constructor`, `__proto__`, `toString` …), not data. */
function inheritedSegment(path: string): boolean {
  return path.split('.').some((segment) => segment === 'prototype' || segment in Object.prototype);
}

/** Why an update never sets a field it names (kept by crmkit, moved by the funnel, derived), by field. */
const NOT_SET: Readonly<Record<string, string>> = {
  version: 'is the revision the run reads (a fixed one conflicts)',
  ...Object.fromEntries(['id', 'tenantId', 'createdAt', 'updatedAt'].map((k) => [k, 'is kept by crmkit'])),
  ...Object.fromEntries(['stageKey', 'status', 'pipelineId', 'stageEnteredAt'].map((k) => [k, 'changes through the funnel (advance / lose, a lead\'s qualify …)'])),
  ...Object.fromEntries(['weightedValue', 'probabilityManual', 'expectedCloseMonth', 'lastActivityAt'].map((k) => [k, 'is derived'])),
};

/**
 * Problems of an `updateFields` action that would fail on every record: a field the update input does
 * not take (named, with why), a value it refuses, and currency changes `deals.update` always refuses.
 */
function updateIssues(entity: string, set: Readonly<Record<string, unknown>>, issue: (path: (string | number)[], message: string, code?: string) => void): void {
  const shape = shapeOf(UPDATE_SCHEMAS[entity]) ?? {};
  const keys = Object.keys(set);
  if (keys.length === 0) issue([], 'must set at least one field (an empty update changes nothing)');
  const given: Record<string, unknown> = {};
  for (const key of keys) {
    const [head] = key.split('.');
    if (key === 'version' || !(key in shape)) {
      const why = NOT_SET[key] ?? (head !== key && head! in shape ? `is a path: set "${head}" as a whole (${head}: { … })` : undefined);
      issue([key], why ? `"${key}" ${why}` : `unknown ${entity} field "${key}" (an update sets: ${Object.keys(shape).filter((k) => k !== 'version').join(', ')})`, 'unknown_field');
    } else given[key] = set[key];
  }
  const result = UPDATE_SCHEMAS[entity]!.safeParse(given);
  if (!result.success) for (const problem of result.error.issues) issue(problem.path as (string | number)[], problem.message, problem.code);
  if (entity !== 'deal') return;
  // deals.update refuses these whatever the deal holds.
  const amounts = 'value' in given || 'lineItems' in given;
  if ('exchangeRate' in given && !('currency' in given)) issue(['exchangeRate'], 'an exchange rate goes with a change of currency: set currency too');
  else if ('exchangeRate' in given && amounts) issue(['exchangeRate'], 'give the new amounts or an exchange rate, not both');
  else if ('currency' in given && !('exchangeRate' in given) && !amounts) issue(['currency'], 'a currency change needs the new amounts (value or lineItems) or an exchangeRate');
  if ('value' in given && Array.isArray(given.lineItems) && given.lineItems.length > 0) issue(['value'], 'the value of a deal with line items is derived from them');
}

/** `won` / `lost` when a trigger starts only for a closed deal (won, lost, or entered a closing stage). */
function closedBy(trigger: AutomationTrigger, pipelines: readonly Pipeline[]): 'won' | 'lost' | undefined {
  if (trigger.type === 'event') return trigger.event === 'deal.won' ? 'won' : trigger.event === 'deal.lost' ? 'lost' : undefined;
  if (trigger.type !== 'stageEntered') return undefined;
  const kinds = new Set(pipelines.flatMap((p) => p.stages.filter((s) => s.key === trigger.stage).map((s) => s.kind)));
  const [kind] = [...kinds];
  return kinds.size === 1 && (kind === 'won' || kind === 'lost') ? kind : undefined;
}

/**
 * Checks a parsed rule against what the tenant has: known events and fields, actions that fit the
 * record type, funnel moves the pipelines allow (stages that exist, lost reasons the pipeline lists,
 * comments its reasons require, skips it forbids). Returns the problems (paths into the input).
 */
export function checkRule(rule: AutomationRuleDefinition, pipelines: readonly Pipeline[], options: { readonly stageTasks: boolean } = { stageTasks: false }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const issue = (path: (string | number)[], message: string, code = 'invalid_value') => issues.push({ path, code, message });
  const { trigger } = rule;
  const entity = triggerEntity(trigger);
  if (trigger.type === 'event' && !TRIGGER_EVENTS.includes(trigger.event)) {
    issue(['trigger', 'event'], `"${trigger.event}" is about no record a rule runs for (a lead, contact, company, deal, task or activity): rules can start on ${TRIGGER_EVENTS.join(', ')}`);
  }
  // The record is gone when the rule runs: only what needs no record can follow.
  const gone = trigger.type === 'event' && trigger.event.endsWith('.removed') ? trigger.event : undefined;
  if (trigger.type === 'fieldChanged') {
    if (inheritedSegment(trigger.field)) issue(['trigger', 'field'], `"${trigger.field}" reaches into the object prototype, not a field`);
    else if (!knownField(trigger.entity, trigger.field)) issue(['trigger', 'field'], `unknown ${trigger.entity} field "${trigger.field}"`);
    else fieldTriggerIssues(trigger, issue);
  }
  const scoped = 'pipelineId' in trigger && trigger.pipelineId ? pipelines.filter((p) => p.id === trigger.pipelineId) : pipelines;
  (rule.conditions ?? []).forEach((c, i) => {
    if (inheritedSegment(c.field)) issue(['conditions', i, 'field'], `"${c.field}" reaches into the object prototype, not a field`);
    else conditionIssues(trigger, entity, c, scoped, (at, message) => issue(['conditions', i, at], message));
  });
  if ('stage' in trigger) {
    if ('pipelineId' in trigger && trigger.pipelineId && scoped.length === 0) issue(['trigger', 'pipelineId'], `no pipeline "${trigger.pipelineId}"`, 'not_found');
    else if (!scoped.some((p) => p.stages.some((s) => s.key === trigger.stage))) issue(['trigger', 'stage'], `no pipeline has a stage "${trigger.stage}"`);
    // Time triggers sweep open deals only: in a won or lost stage the rule would never fire.
    else if (trigger.type === 'timeInStage' && !scoped.some((p) => p.stages.some((s) => s.key === trigger.stage && s.kind === 'open'))) issue(['trigger', 'stage'], `"${trigger.stage}" is a won or lost stage: time triggers sweep open deals only (it would never fire)`);
  }

  const closed = closedBy(trigger, scoped);
  let closedStill = closed !== undefined;
  // The rule's own lose closed the deal (until a wait, after which others may reopen it).
  let lostByRule = false;
  rule.actions.forEach((action, i) => {
    const path = ['actions', i];
    if (action.type === 'wait') lostByRule = false;
    if (lostByRule && (action.type === 'lose' || action.type === 'advance')) issue([...path, 'type'], `the deal is lost by the rule's own lose before: it cannot ${action.type === 'lose' ? 'be lost again' : 'advance'} (no action reopens it)`);
    if (action.type === 'lose') lostByRule = true;
    if (closedStill && (action.type === 'lose' || action.type === 'advance')) {
      // No action reopens a deal: a won or lost deal cannot be lost or advanced by the rule it triggers.
      issue([...path, 'type'], `a ${closed} deal cannot ${action.type === 'lose' ? 'be lost' : 'advance'}: the rule starts when the deal is ${closed} (reopen it first)`);
      closedStill = false;
    }
    const allowed = ACTION_ENTITIES[action.type];
    if (allowed && !allowed.includes(entity)) return void issue([...path, 'type'], `"${action.type}" does not apply to ${entity} records (only ${allowed.join(', ')})`);
    if (gone && action.type !== 'emit' && action.type !== 'sendMessage') return void issue([...path, 'type'], `"${action.type}" needs the record, and a ${gone} rule runs after it is gone: use emit or sendMessage`);
    if (action.type === 'updateFields') updateIssues(entity, action.set, (at, message, code) => issue([...path, 'set', ...at], message, code));
    if (action.type === 'assignOwner' && (action.userId === undefined) === (action.strategyId === undefined)) issue(path, 'give either userId or strategyId');
    if (action.type === 'assignOwner' && action.strategyId && entity !== 'lead' && entity !== 'deal') issue([...path, 'strategyId'], 'assignment strategies assign leads and deals');
    if (action.type === 'advance' && action.toStage) {
      const target = action.toStage;
      const having = scoped.filter((p) => p.stages.some((s) => s.key === target));
      if (having.length === 0) issue([...path, 'toStage'], `no pipeline${scoped.length === 1 ? ` "${scoped[0]!.name}"` : ''} has a stage "${target}"`);
      else if (having.every((p) => p.stages.find((s) => s.key === target)!.kind !== 'open')) issue([...path, 'toStage'], `"${target}" closes the deal: use win or lose (advance moves between open stages)`);
    }
    if (action.type === 'lose') {
      const reasons = scoped.flatMap((p) => p.settings.lostReasons);
      const reason = reasons.find((r) => r.key === action.reason);
      if (scoped.length > 0 && !reason) issue([...path, 'reason'], `unknown lost reason "${action.reason}" (known: ${[...new Set(reasons.map((r) => r.key))].join(', ')})`);
      if (reason?.requiresComment && !action.comment) issue([...path, 'comment'], `lost reason "${action.reason}" requires a comment`);
    }
  });
  if (rule.actions.at(-1)?.type === 'wait') issue(['actions', rule.actions.length - 1], 'a wait must be followed by the actions it delays');
  // Moves the pipelines' rules refuse whatever the deal holds (skips, moves back, exit / entry rules the rule's own actions break).
  if (entity === 'deal') issues.push(...stageRuleIssues(trigger, rule.actions, scoped, options.stageTasks));
  return issues;
}
