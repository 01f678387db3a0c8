import * as z from 'zod/mini';
import { idSchema, LIMITS, optionalText, probabilityInput, probabilitySchema, requiredText, int } from './primitives.js';
import { recordBaseShape } from './record.js';
import { tagged } from './tagged.js';
import type { TaskTemplate, TaskTemplateInput } from './task-template.js';

export type { Assignee, TaskTemplate, TaskTemplateInput } from './task-template.js';

/** A stage key: short, URL-safe, stable across renames (`qualified`, `proposal-sent`). */
export const stageKeySchema = z.string().check(
  z.regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, 'must be lower-case letters, digits, "_" or "-" (max 48)'),
);

type RuleScalar = string | number | boolean;

/** Text (up to 2,000 characters, no NUL), a finite number or a boolean. */
function isRuleScalar(value: unknown): value is RuleScalar {
  return typeof value === 'string' ? value.length <= LIMITS.mediumText && !value.includes('\u0000') : typeof value === 'boolean' || Number.isFinite(value);
}

/** A rule's comparison value: one scalar, or a list of them (`in`). */
const ruleValueSchema = z.custom<RuleScalar | RuleScalar[]>(
  (v) => isRuleScalar(v) || (Array.isArray(v) && v.length <= 100 && v.every(isRuleScalar)),
  'must be text, a number, true/false or a list of at most 100 of them',
);
const ruleMessage = { message: optionalText(500) };
const guard = <T extends string>() => z.strictObject({ type: z.custom<T>(), ...ruleMessage });

/** Comparison used by field rules. `present` needs no value; `in` takes a list. */
export const RULE_FIELD_OPS = ['present', 'eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte'] as const;
export type RuleFieldOp = (typeof RULE_FIELD_OPS)[number];

/**
 * A declarative, serialisable stage rule. Rules are data so they can be stored, edited and shown in a UI.
 * - `field`: a deal field or custom field (`custom.budget`) must satisfy `op value`.
 * - `hasContact` / `hasCompany` / `hasLineItems` / `amountPositive`: shorthands for common guards.
 * - `requiredTasksDone`: every required task created in the stage being left is done.
 */
const ruleShapes = {
  field: z.strictObject({
    type: z.custom<'field'>(),
    field: z.string().check(z.regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,100}$/, 'must be a field path like "expectedCloseDate" or "custom.budget"')),
    op: z.enum(RULE_FIELD_OPS),
    value: z.optional(ruleValueSchema),
    ...ruleMessage,
  }),
  hasContact: guard<'hasContact'>(),
  hasCompany: guard<'hasCompany'>(),
  hasLineItems: guard<'hasLineItems'>(),
  amountPositive: guard<'amountPositive'>(),
  requiredTasksDone: guard<'requiredTasksDone'>(),
};
export type StageRule = { [K in keyof typeof ruleShapes]: z.infer<(typeof ruleShapes)[K]> }[keyof typeof ruleShapes];
export const stageRuleSchema = tagged<StageRule>('type', ruleShapes);

/**
 * A stage's task templates: checked by the tasks feature (`@crmkit/core/tasks`), which creates their
 * tasks when a deal enters the stage. Core stores them as given to it.
 */
const taskTemplatesSchema = z.array(z.custom<TaskTemplate, TaskTemplateInput>());

export const STAGE_KINDS = ['open', 'won', 'lost'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

export const stageInputSchema = z.strictObject({
  key: stageKeySchema,
  name: requiredText(100),
  /** Chance in percent (0–100; 0 < p < 1 is refused as a fraction) that a deal in this stage is won; won stages are 100, lost stages 0. */
  probability: z.optional(probabilityInput),
  /** `open` (default), `won` or `lost`. */
  kind: z.optional(z.enum(STAGE_KINDS)),
  /** A deal idle for this many days in the stage is rotting. */
  rottenDays: z.optional(z.number().check(int(), z.gte(1), z.lte(3650))),
  /** Conditions a deal must meet to enter this stage. */
  entryRules: z.optional(z.array(stageRuleSchema).check(z.maxLength(50))),
  /** Conditions a deal must meet to leave this stage forward. */
  exitRules: z.optional(z.array(stageRuleSchema).check(z.maxLength(50))),
  /** Tasks created when a deal enters the stage. */
  taskTemplates: z.optional(taskTemplatesSchema.check(z.maxLength(20))),
});
export type StageInput = z.input<typeof stageInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const stageSchema = () =>
  z.strictObject({
  key: stageKeySchema,
  name: requiredText(100),
  probability: probabilitySchema,
  kind: z.enum(STAGE_KINDS),
  rottenDays: z.optional(z.number().check(int(), z.gte(1), z.lte(3650))),
  entryRules: z.array(stageRuleSchema),
  exitRules: z.array(stageRuleSchema),
  taskTemplates: taskTemplatesSchema,
});
/** A stage of a pipeline. Its position in `pipeline.stages` is its order. */
export type Stage = z.infer<ReturnType<typeof stageSchema>>;

export const lostReasonSchema = z.strictObject({
  key: stageKeySchema,
  label: requiredText(100),
  /** Losing with this reason requires a comment (typical for "other"; default false). */
  requiresComment: z.optional(z.boolean()),
});
/** A reason a deal may be lost with. */
export type LostReason = PipelineSettings['lostReasons'][number];

export const DEFAULT_LOST_REASONS: readonly LostReason[] = [
  { key: 'price', label: 'Price too high', requiresComment: false },
  { key: 'competitor', label: 'Chose a competitor', requiresComment: false },
  { key: 'no-budget', label: 'No budget', requiresComment: false },
  { key: 'no-response', label: 'Stopped responding', requiresComment: false },
  { key: 'timing', label: 'Bad timing', requiresComment: false },
  { key: 'other', label: 'Other', requiresComment: true },
];

export const pipelineSettingsInputSchema = z.strictObject({
  /** Deals may jump over open stages when advancing (default true). */
  allowSkip: z.optional(z.boolean()),
  /** Deals may move back to an earlier open stage (default true). */
  allowBackward: z.optional(z.boolean()),
  /** Strict next-step mode: every open deal must always have an open task (default false). */
  strictNextStep: z.optional(z.boolean()),
  /** Reasons a deal may be lost with (default: price, competitor, no-budget, no-response, timing, other). */
  lostReasons: z.optional(z.array(lostReasonSchema).check(z.minLength(1), z.maxLength(100))),
});
export type PipelineSettingsInput = z.input<typeof pipelineSettingsInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const pipelineSettingsSchema = () =>
  z.strictObject({
  allowSkip: z.boolean(),
  allowBackward: z.boolean(),
  strictNextStep: z.boolean(),
  lostReasons: z.array(z.strictObject({ key: stageKeySchema, label: requiredText(100), requiresComment: z.boolean() })),
});
export type PipelineSettings = z.infer<ReturnType<typeof pipelineSettingsSchema>>;

export const pipelineCreateInputSchema = z.strictObject({
  id: z.optional(idSchema),
  name: requiredText(100),
  stages: z.array(stageInputSchema).check(z.minLength(1), z.maxLength(50)),
  settings: z.optional(pipelineSettingsInputSchema),
});
export type PipelineCreateInput = z.input<typeof pipelineCreateInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const pipelineSchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  name: requiredText(100),
  stages: z.array(stageSchema()),
  settings: pipelineSettingsSchema(),
  archived: z.boolean(),
});
/** A sales funnel: ordered stages with their rules and task templates. */
export type Pipeline = z.infer<ReturnType<typeof pipelineSchema>>;
