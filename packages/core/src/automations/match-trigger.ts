import type { CrmEvent } from '../events/event-map.js';
import { testCondition } from '../domain/funnel/conditions.js';
import type { AutomationRule, AutomationTrigger } from './automation-schema.js';

/** Deal events that enter and/or leave a stage. */
export const STAGE_EVENTS = ['deal.created', 'deal.stageChanged', 'deal.won', 'deal.lost', 'deal.reopened', 'deal.stageReassigned'] as const;

/** Deal fields a stage move changes, recorded as the move event's `changes` (see `movedFields`). */
const MOVED = new Set(['deal.probability', 'deal.probabilityManual', 'deal.weightedValue']);
const MOVES: readonly string[] = STAGE_EVENTS.slice(1);

/** Events besides `<entity>.updated` that change a field, which their data gives as `from` → `to` (`ownerId` as `previousOwnerId` → `ownerId`). */
const OTHER_CHANGES: Readonly<Record<string, string>> = { 'deal.ownerId': 'deal.assigned', 'lead.ownerId': 'lead.assigned', 'task.dueAt': 'task.postponed' };

/** The event types that can start a rule with this trigger; `undefined` for triggers not driven by the feed (time, manual). */
export function triggerEventTypes(trigger: AutomationTrigger): string[] | undefined {
  switch (trigger.type) {
    case 'event':
      return [trigger.event];
    case 'fieldChanged': {
      // An owner also changes by assignment (strategies, reassignment), recorded as `<entity>.assigned`; a due time by postponing.
      const also = OTHER_CHANGES[`${trigger.entity}.${trigger.field}`];
      // Stage moves change a deal's derived fields (the stage's probability applies): their events carry those changes.
      return [`${trigger.entity}.updated`, ...(also ? [also] : []), ...(MOVED.has(`${trigger.entity}.${trigger.field.split('.')[0]}`) ? MOVES : [])];
    }
    case 'stageEntered':
      return [...STAGE_EVENTS];
    case 'stageLeft':
      return STAGE_EVENTS.filter((t) => t !== 'deal.created');
    default:
      return undefined;
  }
}

/**
 * The stages an event moved a deal between, and its pipeline when the event says (only `deal.created`
 * does: a deal never changes pipeline, so the others take it from the deal — see `conditionsHold`).
 */
export function stageMove(event: CrmEvent): { readonly left?: string; readonly entered?: string; readonly pipelineId?: string } {
  const data = event.data as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  switch (event.type) {
    case 'deal.created': {
      const deal = data.deal as { stageKey?: string; pipelineId?: string } | undefined;
      return { entered: text(deal?.stageKey), pipelineId: text(deal?.pipelineId) };
    }
    case 'deal.won':
    case 'deal.lost':
      return { left: text(data.from), entered: text(data.stageKey) };
    default:
      return { left: text(data.from), entered: text(data.to) };
  }
}

/** What conditions can read about the trigger, under `trigger.*`. */
export interface TriggerFacts {
  readonly type: string;
  readonly eventId?: string;
  readonly at?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  /** Field changes: old and new value; stage moves: the stages left and entered. */
  readonly from?: unknown;
  readonly to?: unknown;
  readonly stage?: string;
  /** Stage moves: the deal's pipeline (from the event, else filled in from the deal when the run reads it). */
  readonly pipelineId?: string;
}

const same = (a: unknown, b: unknown) => (a ?? null) === (b ?? null);

const pathIn = (value: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined), value);

/**
 * How an event changed a field of its record, or `undefined`: update events key their changes by
 * top-level field, so a nested path (`custom.segment`, `value.amount`) is read inside that change and
 * counts only when it differs; an assignment event changes `ownerId`.
 */
function fieldChange(entity: string, field: string, event: CrmEvent): { from: unknown; to: unknown } | undefined {
  if (OTHER_CHANGES[`${entity}.${field}`] === event.type) {
    const data = event.data as { ownerId?: unknown; previousOwnerId?: unknown; from?: unknown; to?: unknown };
    const change = field === 'ownerId' ? { from: data.previousOwnerId, to: data.ownerId } : { from: data.from, to: data.to };
    return same(change.from, change.to) ? undefined : change;
  }
  if (event.type !== `${entity}.updated` && !(entity === 'deal' && MOVES.includes(event.type))) return undefined;
  const changes = (event.data as { changes?: Record<string, { from: unknown; to: unknown }> }).changes ?? {};
  if (Object.hasOwn(changes, field)) return changes[field];
  const [head, ...rest] = field.split('.');
  const outer = rest.length && Object.hasOwn(changes, head!) ? changes[head!] : undefined;
  if (!outer) return undefined;
  const from = pathIn(outer.from, rest);
  const to = pathIn(outer.to, rest);
  return JSON.stringify(from ?? null) === JSON.stringify(to ?? null) ? undefined : { from, to };
}

/**
 * Whether an event starts a rule with this trigger (before conditions), and the facts conditions see.
 * Pure: the record is read later, in the run's transaction.
 *
 * @returns The facts, or `undefined` when the event does not match.
 */
export function matchEvent(trigger: AutomationTrigger, event: CrmEvent): TriggerFacts | undefined {
  const base = { type: event.type, eventId: event.id, at: event.at, data: event.data as Record<string, unknown> };
  // A record a merge's undo restored is back, not new: no rule runs for it (a second welcome e-mail, re-assignment).
  if (base.data.restoredBy !== undefined) return undefined;
  switch (trigger.type) {
    case 'event':
      return event.type === trigger.event ? base : undefined;
    case 'fieldChanged': {
      const change = fieldChange(trigger.entity, trigger.field, event);
      if (!change) return undefined;
      if (trigger.from !== undefined && !same(change.from, trigger.from)) return undefined;
      if (trigger.to !== undefined && !same(change.to, trigger.to)) return undefined;
      return { ...base, from: change.from, to: change.to };
    }
    case 'stageEntered':
    case 'stageLeft': {
      if (!(STAGE_EVENTS as readonly string[]).includes(event.type)) return undefined;
      const move = stageMove(event);
      const stage = trigger.type === 'stageEntered' ? move.entered : move.left;
      if (stage !== trigger.stage) return undefined;
      if (trigger.pipelineId && move.pipelineId && move.pipelineId !== trigger.pipelineId) return undefined;
      return { ...base, from: move.left, to: move.entered, stage, ...(move.pipelineId ? { pipelineId: move.pipelineId } : {}) };
    }
    default:
      return undefined;
  }
}

/**
 * Tests a rule's conditions (the funnel rules' language, `testCondition`) against the record, with the
 * trigger's facts under `trigger`. A stage trigger scoped to a pipeline first checks the deal's
 * pipeline (most stage events do not carry it; a deal never changes pipeline).
 */
export function conditionsHold(rule: Pick<AutomationRule, 'conditions'> & { readonly trigger?: AutomationTrigger }, record: object, facts: TriggerFacts): boolean {
  const trigger = rule.trigger;
  let known = facts;
  if (trigger && (trigger.type === 'stageEntered' || trigger.type === 'stageLeft')) {
    const dealPipeline = (record as { pipelineId?: unknown }).pipelineId;
    const pipelineId = facts.pipelineId ?? (typeof dealPipeline === 'string' ? dealPipeline : undefined);
    if (trigger.pipelineId && pipelineId !== trigger.pipelineId) return false;
    if (pipelineId) known = { ...facts, pipelineId };
  }
  const target = { ...record, trigger: known };
  return rule.conditions.every((c) => testCondition(target, c.field, c.op, c.value as never));
}
