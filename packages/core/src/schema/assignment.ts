import * as z from 'zod/mini';
import { idSchema, LIMITS, requiredText, text, userIdSchema, int } from './primitives.js';
import { recordBaseShape } from './record.js';
import { RULE_FIELD_OPS } from './pipeline.js';

const scalar = z.union([text(LIMITS.mediumText), z.number(), z.boolean()]);

/** A condition on the record being assigned (`source`, `territory`, `country`, `custom.segment`, …). */
export const assignmentConditionSchema = z.strictObject({
  field: z.string().check(z.regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,100}$/, 'must be a field path like "source" or "custom.segment"')),
  op: z.enum(RULE_FIELD_OPS),
  value: z.optional(z.union([scalar, z.array(scalar).check(z.maxLength(100))])),
});
export type AssignmentCondition = z.infer<typeof assignmentConditionSchema>;

export const assignmentOwnerSchema = z.strictObject({
  userId: userIdSchema,
  /** Open items the owner can hold (load-balanced strategies). */
  capacity: z.optional(z.number().check(int(), z.gte(1), z.lte(1_000_000))),
});

/** A rule: when every condition holds, assign to `userId` or delegate to another strategy. */
export const assignmentRuleSchema = z.strictObject({
  when: z.array(assignmentConditionSchema).check(z.minLength(1), z.maxLength(20)),
  assignTo: z.union([z.strictObject({ userId: userIdSchema }), z.strictObject({ strategyId: idSchema })]),
});

const strategyShape = {
  name: requiredText(100),
  /** Which records it assigns. */
  entity: z.enum(['lead', 'deal']),
  /**
   * - `roundRobin`: owners in turn;
   * - `loadBalanced`: the owner with the lowest open-items-to-capacity ratio, below capacity;
   * - `rules`: the first rule whose conditions hold, else the fallback.
   */
  kind: z.enum(['roundRobin', 'loadBalanced', 'rules']),
  owners: z.optional(z.array(assignmentOwnerSchema).check(z.maxLength(500))),
  rules: z.optional(z.array(assignmentRuleSchema).check(z.maxLength(200))),
  /** Used when no rule matches or every owner is at capacity. */
  fallback: z.optional(z.union([z.strictObject({ userId: userIdSchema }), z.strictObject({ strategyId: idSchema })])),
};

export const assignmentStrategyInputSchema = z
  .strictObject({ id: z.optional(idSchema), ...strategyShape })
  .check(
    z.superRefine((s, ctx) => {
      if (s.kind !== 'rules' && !s.owners?.length) ctx.issues.push({ code: 'custom', path: ['owners'], message: `a ${s.kind} strategy needs owners`, input: s.owners });
      if (s.kind === 'rules' && !s.rules?.length) ctx.issues.push({ code: 'custom', path: ['rules'], message: 'a rules strategy needs rules', input: s.rules });
      const seen = new Set<string>();
      s.owners?.forEach((o, i) => {
        if (seen.has(o.userId)) ctx.issues.push({ code: 'custom', params: { code: 'duplicate' }, path: ['owners', i, 'userId'], message: 'listed twice', input: o.userId });
        seen.add(o.userId);
      });
    }),
  );
export type AssignmentStrategyInput = z.input<typeof assignmentStrategyInputSchema>;

export const assignmentStrategySchema = z.strictObject({
  ...recordBaseShape(),
  ...strategyShape,
  /** Round-robin position: index of the owner who got the last item. */
  cursor: z.number().check(int(), z.gte(-1)),
});
/** How leads or deals are given owners. */
export type AssignmentStrategy = z.infer<typeof assignmentStrategySchema>;
