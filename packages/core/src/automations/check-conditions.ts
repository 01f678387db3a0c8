import type { Pipeline } from '../schema/pipeline.js';
import type { AssignmentCondition } from '../schema/assignment.js';
import type { AutomationTrigger } from './automation-schema.js';
import { STAGE_EVENTS, triggerEventTypes } from './match-trigger.js';
import { fieldHolds, knownField } from './record-fields.js';
import { testCondition } from '../domain/funnel/conditions.js';
import { PAYLOAD_KEYS } from './trigger-events.js';
import { canonicalTime, timeOfField, type TimeKind } from '../domain/funnel/time-values.js';
import type { ValidationIssue } from '../errors/crm-error.js';
import type { AutomationRuleDefinition } from './automation-schema.js';

/** What each trigger gives conditions under `trigger.*` (`matchEvent`, the time sweep's `judge`, `trigger()`). */
const FEED = 'type eventId at data';
const FACTS: Readonly<Record<AutomationTrigger['type'], string>> = {
  event: FEED,
  fieldChanged: `${FEED} from to`,
  stageEntered: `${FEED} from to stage pipelineId`,
  stageLeft: `${FEED} from to stage pipelineId`,
  timeInStage: 'type at stage',
  taskDue: 'type at to',
  manual: 'type',
};
const RECORDS = ['lead', 'contact', 'company', 'deal', 'task', 'activity'];
/** Fields every record has: its identity and times, and `status` where there is one (leads, deals, tasks). */
const SET = /^(id|tenantId|version|createdAt|updatedAt|status)$/;

/**
 * What a condition's path reads: a field of a record (`entity`), a stage key, a lost reason, a trigger fact
 * with the same values on every run of the rule (`fixed`) or of one kind that every run has (`kind`), or
 * something unchecked (`{}`). `given`: every record has the field. `time`: it holds instants or days.
 */
type Target = { readonly entity?: string; readonly field?: string; readonly of?: 'stage' | 'reason'; readonly not?: string; readonly problem?: string; readonly fixed?: readonly unknown[]; readonly kind?: 'string' | 'object'; readonly given?: boolean; readonly time?: TimeKind | undefined };

/** A field of a record, if the record type has it. */
const fieldOf = (entity: string, field: string): Target => (knownField(entity, field) ? { entity, field, time: timeOfField(field) } : { problem: `unknown ${entity} field "${field}"` });

/**
 * What a condition's path names: a field of the rule's record, or one of the trigger's facts
 * (`trigger.from`, `trigger.data.reason`) — its payload keys checked against the event map
 * (`PAYLOAD_KEYS`), a record in it or a change (`trigger.data.changes.value.to.amount`) against the
 * record type's fields. A `problem` when the path names nothing the trigger gives (it would never hold).
 */
function targetOf(trigger: AutomationTrigger, entity: string, path: string): Target {
  if (path !== 'trigger' && !path.startsWith('trigger.')) return knownField(entity, path) ? { entity, field: path, given: SET.test(path), time: timeOfField(path) } : { problem: `unknown ${entity} field "${path}" (use trigger.* for the trigger's data)` };
  const [, fact, ...rest] = path.split('.');
  if (fact === undefined) return { kind: 'object' };
  const facts = FACTS[trigger.type].split(' ');
  if (!facts.includes(fact)) return { problem: `${trigger.type === 'event' ? 'an' : 'a'} ${trigger.type} trigger gives ${facts.map((f) => `trigger.${f}`).join(', ')}: "trigger.${fact}" is never set` };
  if (fact === 'data') return rest.length ? dataTarget(trigger.type === 'event' ? [trigger.event] : (triggerEventTypes(trigger) ?? []), entity, rest) : { kind: 'object' };
  // A field change's values are the field's (and below it, its parts): `trigger.to.amount` of `value`;
  // the trigger's own `from` / `to` fixes that side.
  if (trigger.type === 'fieldChanged' && (fact === 'from' || fact === 'to')) return rest.length || trigger[fact] == null ? fieldOf(entity, [trigger.field, ...rest].join('.')) : { fixed: [trigger[fact]], time: timeOfField(trigger.field) };
  if (rest.length) return { problem: `"trigger.${fact}" is one value: "${path}" is never set` };
  if (trigger.type === 'taskDue' && fact === 'to') return { entity: 'task', field: 'dueAt', given: true, time: 'instant' };
  // The event types it fires on; the stage a stage or time trigger names (entered, left, stayed in).
  if (fact === 'type') return { fixed: triggerEventTypes(trigger) ?? [trigger.type] };
  if (fact === 'stage' || fact === (trigger.type === 'stageEntered' ? 'to' : 'from')) return { fixed: [(trigger as { stage: string }).stage] };
  // `eventId`, `at`, `pipelineId` (a stage trigger's: the deal's when its event lacks it).
  // The other side of a stage move is never the stage itself (a move to the same stage is refused).
  return fact === 'from' || fact === 'to' ? { of: 'stage', not: (trigger as { stage: string }).stage } : { kind: 'string', ...(fact === 'at' ? { time: 'instant' as const } : {}) };
}

/** What `trigger.data.<key>…` names in the data of the trigger's event types. */
function dataTarget(types: readonly string[], entity: string, [key, ...below]: readonly string[]): Target {
  const keysOf = (type: string) => (PAYLOAD_KEYS as Readonly<Record<string, string>>)[type]?.split(' ') ?? [];
  const having = types.filter((t) => keysOf(t).includes(key!));
  if (!having.length) return { problem: `the data of ${types.join(' / ')} has no "${key}" (it has: ${[...new Set(types.flatMap(keysOf))].join(', ')})` };
  if (RECORDS.includes(key!)) return below.length ? fieldOf(key!, below.join('.')) : {};
  if (key === 'changes') {
    const [field, side, ...sub] = below;
    if (!field) return {};
    if (side !== undefined && side !== 'from' && side !== 'to') return { problem: `a change is { from, to }: "${side}" is never set` };
    return side ? fieldOf(entity, [field, ...sub].join('.')) : knownField(entity, field) ? {} : fieldOf(entity, field);
  }
  if (below.length) return {};
  // Stage keys and lost reasons of the deal events (a postponement's `from` is a time).
  if (entity === 'deal' && (key === 'stageKey' || ((key === 'from' || key === 'to') && having.every((t) => (STAGE_EVENTS as readonly string[]).includes(t))))) return { of: 'stage' };
  if (key === 'reason' && having.length === 1 && having[0] === 'deal.lost') return { of: 'reason' };
  // Times of the payloads: notices' `dueAt`, rotting's `since` / `lastActivityAt`, a postponement's `until`,
  // `from` / `to` (instants, compared in stored form like a record's time fields).
  const postponed = having.every((t) => t.endsWith('.postponed'));
  return timeOfField(key!) || key === 'since' || key === 'until' || (postponed && (key === 'from' || key === 'to')) ? { time: timeOfField(key!) ?? 'instant' } : {};
}

/** A day, or an instant in stored form (`canonicalRule` has put every time a rule names into it). */
const ISO_DATE = /^\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d\.\d{3}Z)?$/;

/** Why a condition's value cannot be compared with its operator (the funnel language's `testCondition`), or `undefined`. */
function valueProblem(op: string, value: unknown): string | undefined {
  if (op === 'present') return value === undefined ? undefined : '"present" takes no value';
  if (op === 'in') return Array.isArray(value) ? (value.length ? undefined : '"in" takes at least one value') : '"in" takes a list of values';
  if (Array.isArray(value)) return `"${op}" takes one value (use "in" for a list)`;
  if (op === 'eq' || op === 'ne') return undefined;
  // Ordering: numbers (amounts, scores, counts) or ISO-8601 dates, which compare as text.
  if (typeof value === 'number' || (typeof value === 'string' && ISO_DATE.test(value))) return undefined;
  return `"${op}" compares with a number or an ISO-8601 date (got ${JSON.stringify(value ?? null)})`;
}

/**
 * Problems of one condition of a rule that could never hold, or would always hold: a path the record or
 * the trigger does not have (at `field`), a value its operator cannot compare (`in` an empty list), or
 * one the path can never hold — `eq` / `ne` / `in` a stage the pipelines lack (or the stage a stage move
 * leaves for `trigger.to`, enters for `trigger.from`) or a lost reason they do not list;
 * text where a number is stored, one value against an object, with any operator (`ne` would always
 * hold) (at `value`); a fact the trigger fixes (`trigger.type` of an `event` trigger, `trigger.stage`),
 * whatever the operator; `present` of what every run has (`id`, `trigger.at`) (at `field`).
 *
 * @param entity The record type the rule runs for. @param pipelines Those the trigger can run in.
 */
export function conditionIssues(trigger: AutomationTrigger, entity: string, condition: AssignmentCondition, pipelines: readonly Pipeline[], issue: (at: 'field' | 'value', message: string) => void): void {
  const { op, value, field } = condition;
  const target = targetOf(trigger, entity, field);
  if (target.problem) return issue('field', target.problem);
  const shape = valueProblem(op, value);
  if (shape) return issue('value', shape);
  const { fixed, kind } = target;
  if (fixed) {
    // A fact the trigger fixes: one verdict on every run, unless its values differ on it.
    const verdicts = fixed.map((v) => testCondition({ v }, 'v', op, value as never));
    if (!verdicts.includes(!verdicts[0])) issue(op === 'present' ? 'field' : 'value', `"${field}" is ${fixed.map((v) => JSON.stringify(v)).join(' or ')} on every run: the condition would ${verdicts[0] ? 'always' : 'never'} hold`);
    return;
  }
  if (op === 'present') return target.given || kind ? issue('field', `every run has "${field}": the condition would always hold`) : undefined;
  let of = target.of;
  if (target.field === 'stageKey' || target.field === 'closedFromStage') of = 'stage';
  if (target.field === 'lostReason') of = 'reason';
  // `ne` a stage or reason there is not would always hold, as `eq` would never.
  const known = of === 'stage' ? pipelines.flatMap((p) => p.stages.map((s) => s.key)).filter((k) => k !== target.not) : of === 'reason' ? pipelines.flatMap((p) => p.settings.lostReasons.map((r) => r.key)) : undefined;
  const never = (op === 'in' ? (value as unknown[]) : [value]).filter((v) =>
    known ? !known.includes(v as string) : kind ? v === null || typeof v !== kind : target.entity && !fieldHolds(target.entity, target.field!, v, op === 'eq' || op === 'ne' || op === 'in'),
  );
  if (!never.length) return;
  const what = target.not && never.includes(target.not) ? `a stage "${field}" can be: the deal moves ${field.endsWith('to') ? 'out of' : 'into'} "${target.not}"` : of ? `${of === 'stage' ? 'a stage' : 'a lost reason'} ${pipelines.length === 1 ? `of pipeline "${pipelines[0]!.name}"` : 'of the pipelines'}` : `a value "${target.field ?? field}" can hold`;
  issue('value', `${never.map((v) => JSON.stringify(v)).join(', ')} is not ${what}: the condition would ${op === 'ne' ? 'always' : 'never'} hold`);
}

/**
 * A rule with every time it compares in the form times are stored (`canonicalTime`): a field trigger's
 * `from` / `to` of a time field, and the condition values of a time field, of `trigger.at` / a time
 * trigger's `trigger.to`, and ordering bounds. Stored times compare as text, so `…T11:00:00+02:00` or
 * `…T09:00:00Z` would never equal the stored `…T09:00:00.000Z`. `issues`: values that name no such time.
 * `entity`: the record type the rule runs for (`triggerEntity`).
 */
export function canonicalRule(rule: AutomationRuleDefinition, entity: string): { readonly rule: AutomationRuleDefinition; readonly issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const fix = (value: unknown, kind: TimeKind | undefined, ordering: boolean, path: (string | number)[]) => {
    const out = canonicalTime(value, kind, ordering);
    if (out.problem) issues.push({ path, code: 'invalid_value', message: out.problem });
    return out.value as never;
  };
  let { trigger } = rule;
  if (trigger.type === 'fieldChanged') {
    const kind = timeOfField(trigger.field);
    trigger = { ...trigger, ...(trigger.from != null ? { from: fix(trigger.from, kind, false, ['trigger', 'from']) } : {}), ...(trigger.to != null ? { to: fix(trigger.to, kind, false, ['trigger', 'to']) } : {}) };
  }
  const conditions = rule.conditions?.map((c, i) => {
    if (c.value === undefined) return c;
    const { time } = targetOf(trigger, entity, c.field);
    const ordering = c.op !== 'eq' && c.op !== 'ne' && c.op !== 'in';
    const value = Array.isArray(c.value) ? c.value.map((v, n) => fix(v, time, ordering, ['conditions', i, 'value', n])) : fix(c.value, time, ordering, ['conditions', i, 'value']);
    return { ...c, value };
  });
  return { rule: { ...rule, trigger, ...(conditions ? { conditions } : {}) }, issues };
}
