import * as z from 'zod/mini';
import { idSchema, timestampSchema, userIdSchema, int } from './primitives.js';
import { parentAccessShape, recordBaseShape } from './record.js';
import { stageKeySchema } from './pipeline.js';

/** How a stage visit ended. */
export const STAGE_EXIT_KINDS = ['advanced', 'movedBack', 'won', 'lost', 'reopened', 'stageRemoved', 'removed'] as const;
export type StageExitKind = (typeof STAGE_EXIT_KINDS)[number];

/**
 * One stay of a deal in a stage: when it entered and left, who moved it, how often the next step
 * was postponed meanwhile. The raw material of time-in-stage and conversion analytics.
 */
// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const stageVisitSchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  dealId: idSchema,
  pipelineId: idSchema,
  stageKey: stageKeySchema,
  enteredAt: timestampSchema,
  enteredBy: z.optional(userIdSchema),
  /** The stage the deal came from, absent for the first visit. */
  fromStageKey: z.optional(stageKeySchema),
  exitedAt: z.optional(timestampSchema),
  exitedBy: z.optional(userIdSchema),
  exitKind: z.optional(z.enum(STAGE_EXIT_KINDS)),
  toStageKey: z.optional(stageKeySchema),
  /** Deal owner when the deal entered the stage. */
  ownerId: z.optional(userIdSchema),
  postponeCount: z.number().check(int(), z.gte(0)),
  /** exitedAt − enteredAt in ms, set on exit. */
  durationMs: z.optional(z.number().check(z.gte(0))),
  /** How the deal eventually closed (set on every visit of the deal when it is won or lost; cleared on reopen). */
  closedAs: z.optional(z.enum(['won', 'lost'])),
  ...parentAccessShape,
});
export type StageVisit = z.infer<ReturnType<typeof stageVisitSchema>>;
