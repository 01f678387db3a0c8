import { CrmError } from '../errors/crm-error.js';
import type { AccessGuard } from '../crm/access-guard.js';
import type { CrmEvent } from '../events/event-map.js';
import type { AutomationRule, AutomationTrigger } from './automation-schema.js';
import { triggerEventTypes } from './match-trigger.js';
import { PAYLOAD_KEYS } from './trigger-events.js';

/**
 * What of the activities `withoutActivity` tests (on the deal, since it entered, by whom: not the rules)
 * the principal may not read — any at all, or those fields —; `undefined` when it reads them.
 */
export function hiddenActivity(guard: AccessGuard): string | undefined {
  const fields = ['dealId', 'occurredAt', 'ownerId'].filter((f) => !guard.readable('activity', f));
  return !guard.granted('activity', 'read') ? 'activity records' : fields.length ? `${fields.join(', ')} of activity records` : undefined;
}

/**
 * The fields of its record a trigger reads to fire: the changed field, the stage (and its entry time, a
 * time trigger's open status, the pipeline it names), a task's due time and status.
 */
function triggerReads(trigger: AutomationTrigger): [path: string[], fields: string[]] | undefined {
  const pipeline = 'pipelineId' in trigger && trigger.pipelineId ? ['pipelineId'] : [];
  switch (trigger.type) {
    case 'fieldChanged':
      return [['trigger', 'field'], [trigger.field]];
    case 'stageEntered':
    case 'stageLeft':
      return [['trigger', 'stage'], ['stageKey', ...pipeline]];
    case 'timeInStage':
      return [['trigger', 'stage'], ['stageKey', 'stageEnteredAt', 'status', ...pipeline]];
    case 'taskDue':
      return [['trigger', 'before'], ['status', 'dueAt']];
    default:
      return undefined;
  }
}

/**
 * Whether the principal's view of the trigger's events leaves out `trigger.data.<path>`: probe events
 * holding a value there (an object, a number, a list of ids: what is left out may depend on the shape)
 * are projected as the access feature projects every event for a view — records in the payload by
 * their field rules, changes of hidden fields, values that tell a hidden field, ids of records and
 * link counts it may not reach.
 */
function dataHidden(trigger: AutomationTrigger, entity: string, path: readonly string[], guard: AccessGuard): boolean {
  return (trigger.type === 'event' ? [trigger.event] : (triggerEventTypes(trigger) ?? [])).some((type) =>
    [{ from: null, to: null }, 0.5, ['x']].some((probe) => {
      // The event's other keys are there too (some projections look at them: a merge's `mergeId`).
      const fill = Object.fromEntries(((PAYLOAD_KEYS as Readonly<Record<string, string>>)[type] ?? '').split(' ').map((key) => [key, 1]));
      const data = { ...fill, ...(path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), probe) as object) };
      const seen = guard.projectEvent({ id: '', type, subjectType: entity, subjectId: '', refs: [], data } as unknown as CrmEvent, (key) => guard.reachesAll(key.slice(0, key.indexOf(':')), 'read')).data;
      return path.reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], seen) !== probe;
    }),
  );
}

/** Something a rule reads that a principal may not: where in the rule, and what. */
export interface HiddenRead {
  readonly path: readonly (string | number)[];
  readonly what: string;
}

/**
 * What a rule reads that the principal may not read, so the rule would act on what it cannot see:
 * the fields its trigger watches, the activities `withoutActivity` looks for, the record fields its
 * conditions test, and the trigger data they test (`trigger.data.*`, judged by the event projection views get). `trigger.from` / `.to` / `.stage`
 * are the watched field's or the stage's values: the trigger's own read covers them.
 *
 * @param entity The record type the rule runs for. @param guard The principal's rules (`undefined`: no policy).
 */
export function hiddenReads(rule: Pick<AutomationRule, 'trigger' | 'conditions'>, entity: string, guard: AccessGuard | undefined): HiddenRead[] {
  if (!guard) return [];
  const out: HiddenRead[] = [];
  const reads = triggerReads(rule.trigger);
  const fields = reads?.[1].filter((f) => !guard.readable(entity, f));
  if (fields?.length) out.push({ path: reads![0], what: `${fields.join(', ')} of ${entity} records` });
  // `withoutActivity` reads the deal's activities: none at all, or not the fields it tests, and every deal would look idle.
  const activity = rule.trigger.type === 'timeInStage' && rule.trigger.withoutActivity ? hiddenActivity(guard) : undefined;
  if (activity) out.push({ path: ['trigger', 'withoutActivity'], what: activity });
  (rule.conditions ?? []).forEach(({ field }, i) => {
    const [head, fact, ...rest] = field.split('.');
    const hidden = head !== 'trigger' ? !guard.readable(entity, field) : fact === 'data' && rest.length > 0 && dataHidden(rule.trigger, entity, rest, guard);
    if (hidden) out.push({ path: ['conditions', i, 'field'], what: field });
  });
  return out;
}

/** The error of a run whose rule reads what the service principal may not (the policy changed since define). */
export function forbiddenReads(rule: Pick<AutomationRule, 'name'>, guard: AccessGuard, hidden: readonly HiddenRead[]): CrmError {
  const what = hidden.map((h) => h.what).join(', ');
  return new CrmError('FORBIDDEN', `automations: rule "${rule.name}": ${guard.principal.userId} may not read ${what} (access policy)`, { action: 'automations.run', reason: 'fields the service principal may not read', fields: hidden.map((h) => h.what) } as never);
}
