import * as z from 'zod/mini';
import { idSchema, int, optionalText, requiredText, userIdSchema } from '../schema/primitives.js';
import { assignmentConditionSchema } from '../schema/assignment.js';
import { stageKeySchema } from '../schema/pipeline.js';
import { taskTemplateSchema } from '../schema/task-template.js';
import { tagged } from '../schema/tagged.js';
import { eventTypeSchema } from '../consumers/feed-read.js';
import type { RecordBase } from '../schema/record.js';

/** Records a rule can be about. */
export const AUTOMATION_ENTITIES = ['lead', 'contact', 'company', 'deal', 'task', 'activity'] as const;
export type AutomationEntity = (typeof AUTOMATION_ENTITIES)[number];

const entitySchema = z.enum(AUTOMATION_ENTITIES);
const fieldPath = z.string().check(z.regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,100}$/, 'must be a field path like "ownerId" or "custom.segment"'));
const scalar = z.union([z.string().check(z.maxLength(2000)), z.number(), z.boolean(), z.null()]);

/** A span of time: elapsed minutes/hours, calendar days, or business days of the tenant's calendar. */
export const durationSchema = z.strictObject({
  amount: z.number().check(int(), z.gte(0), z.lte(3650)),
  unit: z.enum(['minutes', 'hours', 'days', 'businessDays']),
});
export type Duration = z.infer<typeof durationSchema>;

const stageScope = { stage: stageKeySchema, pipelineId: z.optional(idSchema) };
/**
 * A time trigger's span, at least 1 of its unit: `timeInStage` for 0 would fire on the tick after every
 * stage entry (a `stageEntered` trigger does that, from the feed); `taskDue` before 0 never fires (the
 * trigger fires while the task is still before its due time); a `wait` of 0 would wait for nothing.
 */
const lapse = z.strictObject({ ...durationSchema.shape, amount: z.number().check(int(), z.gte(1), z.lte(3650)) });
const typeOf = <T extends string>() => z.custom<T>();

/**
 * What starts a rule:
 * - `event`: a domain event of this type (`deal.won`); conditions see its data as `trigger.data.*`;
 * - `fieldChanged`: an update of `entity` that changed `field` (optionally `from` → `to`);
 * - `stageEntered` / `stageLeft`: a deal entered or left `stage` (created in it, moved, won, lost, reopened);
 * - `timeInStage`: a deal has been in `stage` for `for` (at least 1 of its unit; optionally without an
 *   activity since it entered), checked by `crm.automations.tick()` (the scheduler's tick runs it);
 * - `taskDue`: an open task is `before` its due time (at least 1 of its unit);
 * - `manual`: `crm.automations.trigger(ruleId, record)`, for a UI button.
 */
const triggerShapes = {
  event: z.strictObject({ type: typeOf<'event'>(), event: eventTypeSchema }),
  fieldChanged: z.strictObject({ type: typeOf<'fieldChanged'>(), entity: entitySchema, field: fieldPath, from: z.optional(scalar), to: z.optional(scalar) }),
  stageEntered: z.strictObject({ type: typeOf<'stageEntered'>(), ...stageScope }),
  stageLeft: z.strictObject({ type: typeOf<'stageLeft'>(), ...stageScope }),
  timeInStage: z.strictObject({ type: typeOf<'timeInStage'>(), ...stageScope, for: lapse, withoutActivity: z.optional(z.boolean()) }),
  taskDue: z.strictObject({ type: typeOf<'taskDue'>(), before: lapse }),
  manual: z.strictObject({ type: typeOf<'manual'>(), entity: entitySchema }),
};
export type AutomationTrigger = { [K in keyof typeof triggerShapes]: z.input<(typeof triggerShapes)[K]> }[keyof typeof triggerShapes];
export const triggerSchema = tagged<AutomationTrigger>('type', triggerShapes);

const activityAction = z.strictObject({
  kind: z.enum(['call', 'email', 'meeting', 'message', 'note']),
  channel: optionalText(32),
  direction: z.optional(z.enum(['inbound', 'outbound'])),
  subject: optionalText(),
  body: optionalText(20_000),
  outcome: optionalText(2000),
});

/**
 * What a rule does, in order, in one transaction with its run-log entry:
 * - `createTask`: a task like a stage template's (due-date arithmetic, assignee strategies), linked to the record;
 * - `updateFields`: an update of the record (`set` is checked like the service's update input);
 * - `assignOwner`: a user, or an assignment strategy (leads and deals);
 * - `addTag` / `removeTag`;
 * - `advance` / `lose`: through the funnel services, so every stage rule applies (deals);
 * - `logActivity`: an activity linked to the record;
 * - `emit`: a custom event `custom.<name>` for webhooks and host handlers;
 * - `sendMessage`: an e-mail or SMS the host's messenger sends (an `automation.message` event, delivered once per run);
 * - `wait`: stop here and continue with the next actions after `for` (at least 1 of its unit; the scheduler resumes the run).
 */
const actionShapes = {
  createTask: z.strictObject({ type: typeOf<'createTask'>(), task: taskTemplateSchema }),
  updateFields: z.strictObject({ type: typeOf<'updateFields'>(), set: z.record(fieldPath, z.unknown()) }),
  assignOwner: z.strictObject({ type: typeOf<'assignOwner'>(), userId: z.optional(userIdSchema), strategyId: z.optional(idSchema) }),
  addTag: z.strictObject({ type: typeOf<'addTag'>(), tag: requiredText(64) }),
  removeTag: z.strictObject({ type: typeOf<'removeTag'>(), tag: requiredText(64) }),
  advance: z.strictObject({ type: typeOf<'advance'>(), toStage: z.optional(stageKeySchema) }),
  lose: z.strictObject({ type: typeOf<'lose'>(), reason: stageKeySchema, comment: optionalText(2000) }),
  logActivity: z.strictObject({ type: typeOf<'logActivity'>(), activity: activityAction }),
  emit: z.strictObject({ type: typeOf<'emit'>(), name: z.string().check(z.regex(/^[a-zA-Z]{1,50}$/, 'must be 1-50 letters (the event type is custom.<name>)')), data: z.optional(z.record(z.string(), z.unknown())) }),
  sendMessage: z.strictObject({ type: typeOf<'sendMessage'>(), channel: z.enum(['email', 'sms']), template: requiredText(100), data: z.optional(z.record(z.string(), z.unknown())) }),
  wait: z.strictObject({ type: typeOf<'wait'>(), for: lapse }),
};
// Input types: `tagged` passes a value through as given (defaults such as a task's assignee are applied when it runs).
export type AutomationAction = { [K in keyof typeof actionShapes]: z.input<(typeof actionShapes)[K]> }[keyof typeof actionShapes];
export const actionSchema = tagged<AutomationAction>('type', actionShapes);

/** Most rules a tenant may define (enabled or not): every event is matched against each enabled rule, and rules are read in one page. */
export const MAX_RULES = 1000;

/** Largest rule definition, as JSON: a rule is configuration, not a program. */
export const MAX_RULE_BYTES = 16_384;

/** The input of `crm.automations.define`. */
export const ruleInputSchema = z.strictObject({
  /** Given: edits the stored rule with this id (a new revision; `NOT_FOUND` when there is none). Absent: a new rule. */
  id: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1-40 letters, digits, "_" or "-"'))),
  name: requiredText(100),
  description: optionalText(2000),
  enabled: z.optional(z.boolean()),
  trigger: triggerSchema,
  /** The funnel rules' condition language: every condition must hold (`trigger.*` paths read the trigger). */
  conditions: z.optional(z.array(assignmentConditionSchema).check(z.maxLength(20))),
  actions: z.array(actionSchema).check(z.minLength(1), z.maxLength(20)),
  /** At most `max` runs per `perMinutes` minutes; further triggers are skipped (logged as `rateLimited`). */
  rateLimit: z.optional(z.strictObject({ max: z.number().check(int(), z.gte(1), z.lte(1_000_000)), perMinutes: z.number().check(int(), z.gte(1), z.lte(10_080)) })),
});
export type AutomationRuleInput = z.input<typeof ruleInputSchema>;
export type AutomationRuleDefinition = z.output<typeof ruleInputSchema>;

/** A stored rule. `revision` grows with every edit of the definition; runs record the revision they ran. */
export interface AutomationRule extends RecordBase {
  readonly name: string;
  readonly description?: string;
  readonly enabled: boolean;
  readonly revision: number;
  readonly triggerType: AutomationTrigger['type'];
  readonly trigger: AutomationTrigger;
  readonly conditions: readonly z.infer<typeof assignmentConditionSchema>[];
  readonly actions: readonly AutomationAction[];
  readonly rateLimit?: { readonly max: number; readonly perMinutes: number };
  /** The feed position when the rule was created or last enabled: only later events start it. */
  readonly since: number;
}

/** What one action did. */
export interface ActionOutcome {
  readonly type: AutomationAction['type'];
  /** The record it created or changed (`task:…`, `deal:…`), or the event it recorded. */
  readonly ref?: string;
  readonly detail?: string;
}

/**
 * The status of a run: done, waiting for a `wait` to end, skipped (with a reason), failed (with the
 * error), or cancelled (a waiting run whose rule was disabled: it never continues; the reason says why).
 */
export type RunStatus = 'done' | 'waiting' | 'skipped' | 'failed' | 'cancelled';

/** One entry of the run log (entity `automationRun`). */
export interface AutomationRun extends RecordBase {
  readonly ruleId: string;
  readonly ruleName: string;
  /** The rule revision this run executed (a later edit never changes it). */
  readonly revision: number;
  /** The event id, or `manual:…`, `time:…` for other triggers: (ruleId, triggerKey) runs once. */
  readonly triggerKey: string;
  readonly triggerType: string;
  readonly eventId?: string;
  /** When the run started its actions (its successful attempt; a continuation keeps it): rate limits count runs by it. */
  readonly ranAt?: string;
  readonly status: RunStatus;
  readonly subjectType: string;
  readonly subjectId: string;
  /** How many automation runs led to this one (0: a person or a system change). */
  readonly depth: number;
  /** The rules of the run's chain, ending with its own (the `chain` of the events it records). */
  readonly chain?: readonly string[];
  readonly actions: readonly ActionOutcome[];
  readonly reason?: string;
  readonly error?: { readonly code?: string; readonly message: string; readonly details?: unknown };
  /** Failed attempts, when `status` is `failed`. */
  readonly attempts?: number;
  /**
   * A waiting run: when it continues, and with which action (index into the revision's actions). A
   * failed run of an event: when it is tried again (absent once `maxAttempts` failed: it is parked).
   */
  readonly resumeAt?: string;
  readonly resumeFrom?: number;
  /** The rule's actions as they were at this revision (a waiting run continues with them). */
  readonly plan?: readonly AutomationAction[];
}

/** What caused an event recorded by an automation run (stored on the event as `cause`). */
export interface AutomationCause {
  readonly runId: string;
  readonly ruleId: string;
  readonly depth: number;
  /** Every rule of the chain that led here, oldest first: a rule never runs twice in one chain. */
  readonly chain: readonly string[];
}
