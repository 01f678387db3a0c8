import * as z from 'zod/mini';
import { produce } from 'immer';
import { evaluateMove, type FunnelMove, type MoveContext, type MoveEvaluation } from '../domain/funnel/evaluate-move.js';
import { planMove } from '../domain/funnel/plan-move.js';
import { compact, reviseRecord } from '../domain/records.js';
import type { Deal } from '../schema/deal.js';
import type { Pipeline } from '../schema/pipeline.js';
import { stageKeySchema } from '../schema/pipeline.js';
import { idSchema, LIMITS, optionalText, timestampInputSchema } from '../schema/primitives.js';
import type { StageVisit } from '../schema/stage-visit.js';
import type { NextStepInput, Task } from '../schema/task.js';
import type { CrmContext } from '../crm/context.js';
import { dealRefs } from '../deals/deal-refs.js';
import { newStageVisit } from '../deals/deal-visits.js';
import { closeOpenVisit } from '../deals/deal-visits.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import { checkNextStep } from './next-step.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';

/** Options every move accepts. */
export interface MoveOptions {
  /** Make the move conditional on the deal's version. */
  readonly version?: number;
}

/** Options of moves into an open stage: a next-step task can come with them. */
export interface MoveWithNextStepOptions extends MoveOptions {
  /** A task created with the move (satisfies strict next-step mode). */
  readonly nextStep?: NextStepInput;
}

const nextStepSlot = z.optional(z.custom<NextStepInput>());
const advanceSchema = z.strictObject({ toStage: z.optional(stageKeySchema), version: versionOptionSchema, nextStep: nextStepSlot });
const postponeSchema = z.strictObject({
  until: timestampInputSchema,
  reason: optionalText(LIMITS.mediumText),
  taskId: z.optional(idSchema),
  version: versionOptionSchema,
});
const loseSchema = z.strictObject({ reason: stageKeySchema, comment: optionalText(LIMITS.mediumText), version: versionOptionSchema });
const winSchema = z.strictObject({ stageKey: z.optional(stageKeySchema), version: versionOptionSchema });
const reopenSchema = z.strictObject({ toStage: stageKeySchema, version: versionOptionSchema, nextStep: nextStepSlot });

export const funnelMoveSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('advance'), toStage: z.optional(stageKeySchema) }),
  z.strictObject({ type: z.literal('postpone'), until: timestampInputSchema, reason: optionalText(LIMITS.mediumText), taskId: z.optional(idSchema) }),
  z.strictObject({ type: z.literal('lose'), reason: stageKeySchema, comment: optionalText(LIMITS.mediumText) }),
  z.strictObject({ type: z.literal('win'), stageKey: z.optional(stageKeySchema) }),
  z.strictObject({ type: z.literal('reopen'), toStage: stageKeySchema }),
]);

/** What a move is judged against: the deal's tasks when the tasks feature is installed, none otherwise. */
async function moveContext(op: Operation, deal: Deal, withNextStep: boolean): Promise<MoveContext> {
  const tasks = op.ctx.hooks.tasks ? await op.ctx.hooks.tasks.moveContext(op, deal) : { openTasks: [], stageTasks: [] };
  return { now: op.now, ...tasks, withNextStep };
}

/** Records on every stage visit of a deal how it closed (or clears it on reopen), for conversion-to-won analytics. */
async function markVisitsClosedAs(op: Operation, dealId: string, closedAs: 'won' | 'lost' | undefined): Promise<void> {
  const { rows } = await op.query<StageVisit>('stageVisit', { filter: { op: 'eq', field: 'dealId', value: dealId } });
  for (const visit of rows) {
    if (visit.closedAs === closedAs) continue;
    await op.update('stageVisit', visit, reviseRecord(visit, op.now, (d) => {
      if (closedAs) d.closedAs = closedAs;
      else delete d.closedAs;
    }));
  }
}

/** Adds one to the postponement count of the deal's open stage visit. */
async function countVisitPostponement(op: Operation, deal: Deal): Promise<void> {
  const { rows } = await op.query<StageVisit>('stageVisit', {
    filter: { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: deal.id }, { op: 'eq', field: 'exitedAt', value: null }] },
    sort: [{ field: 'enteredAt', direction: 'desc' }],
    limit: 1,
  });
  const visit = rows[0];
  if (visit) await op.update('stageVisit', visit, reviseRecord(visit, op.now, (d) => void (d.postponeCount = visit.postponeCount + 1)));
}

/**
 * Executes a funnel move in one transaction: evaluates it (RULE_VIOLATION lists every broken rule
 * and writes nothing), updates the deal, closes and opens stage visits, lets the tasks feature create
 * template and next-step tasks and move or cancel tasks, and records the move's event.
 */
export async function executeMove(ctx: CrmContext, dealId: string, move: FunnelMove, version: number | undefined, nextStep: NextStepInput | undefined): Promise<Deal> {
  return runWrite(ctx, (op) => moveIn(op, dealId, move, version, nextStep));
}

/** Executes a funnel move inside an existing operation (see `executeMove`). */
export async function moveIn(op: Operation, dealId: string, move: FunnelMove, version: number | undefined, nextStep: NextStepInput | undefined): Promise<Deal> {
  const deal = await op.require<Deal>('deal', dealId);
  assertExpectedVersion('deal', deal, version);
  const pipeline = await op.require<Pipeline>('pipeline', deal.pipelineId);
  const context = await moveContext(op, deal, nextStep !== undefined);
  const plan = planMove(pipeline, deal, move, context);
  const tasks = op.ctx.hooks.tasks;
  let created: Task[] = [];
  let next: Deal;
  if (tasks) {
    const result = await tasks.applyMove(op, deal, plan, context.openTasks, nextStep);
    created = result.created;
    next = tasks.withNextStep(plan.deal, [...result.open, ...created]);
  } else {
    // Without tasks, a postponement's date is the deal's next step; a lost deal has none.
    next = produce(plan.deal, (d) => {
      if (plan.postpone) d.nextStepDueAt = plan.postpone.until;
      if (move.type === 'lose') delete d.nextStepDueAt;
    });
  }
  if (plan.postpone) await countVisitPostponement(op, deal);
  await op.update('deal', deal, next);
  if (plan.exit) await closeOpenVisit(op, deal, { exitKind: plan.exit.kind, ...(plan.exit.toStageKey ? { toStageKey: plan.exit.toStageKey } : {}) });
  if (plan.enter) await op.insert('stageVisit', newStageVisit(op, next, deal.stageKey));
  if (next.status !== deal.status) await markVisitsClosedAs(op, deal.id, next.status === 'open' ? undefined : next.status);
  op.record(plan.event.type, { type: 'deal', id: deal.id }, plan.event.data as never, dealRefs(next));
  await tasks?.insert(op, created);
  return next;
}

/** The public move methods, mixed into `crm.deals`. */
export const dealMoves = {
  advance: (ctx: CrmContext, id: string, options: unknown) => {
    const dealId = parseId(id, 'deals.advance');
    const step = checkNextStep(ctx, options);
    const o = parseInput(advanceSchema, options ?? {}, 'deals.advance', step.issues);
    return executeMove(ctx, dealId, compact({ type: 'advance' as const, toStage: o.toStage }), o.version, step.value);
  },
  postpone: (ctx: CrmContext, id: string, options: unknown) => {
    const dealId = parseId(id, 'deals.postpone');
    const o = parseInput(postponeSchema, options, 'deals.postpone');
    return executeMove(ctx, dealId, compact({ type: 'postpone' as const, until: o.until, reason: o.reason, taskId: o.taskId }), o.version, undefined);
  },
  lose: (ctx: CrmContext, id: string, options: unknown) => {
    const dealId = parseId(id, 'deals.lose');
    const o = parseInput(loseSchema, options, 'deals.lose');
    return executeMove(ctx, dealId, compact({ type: 'lose' as const, reason: o.reason, comment: o.comment }), o.version, undefined);
  },
  win: (ctx: CrmContext, id: string, options: unknown) => {
    const dealId = parseId(id, 'deals.win');
    const o = parseInput(winSchema, options ?? {}, 'deals.win');
    return executeMove(ctx, dealId, compact({ type: 'win' as const, stageKey: o.stageKey }), o.version, undefined);
  },
  reopen: (ctx: CrmContext, id: string, options: unknown) => {
    const dealId = parseId(id, 'deals.reopen');
    const step = checkNextStep(ctx, options);
    const o = parseInput(reopenSchema, options, 'deals.reopen', step.issues);
    return executeMove(ctx, dealId, { type: 'reopen', toStage: o.toStage }, o.version, step.value);
  },
};

/**
 * Answers "is this move allowed, and if not, why" for a stored deal, without writing. `crm.funnel`.
 */
export class FunnelService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Evaluates a move against the deal's pipeline rules, tasks and settings.
   *
   * @example
   * const { allowed, violations } = await crm.funnel.check(deal.id, { type: 'advance' });
   * advanceButton.disabled = !allowed;
   */
  async check(dealId: string, move: z.input<typeof funnelMoveSchema>, options: { withNextStep?: boolean } = {}): Promise<MoveEvaluation> {
    const id = parseId(dealId, 'funnel.check');
    const parsed = parseInput(funnelMoveSchema, move, 'funnel.check') as FunnelMove;
    return runRead(this.ctx, async (op) => {
      const deal = await op.require<Deal>('deal', id);
      const pipeline = await op.require<Pipeline>('pipeline', deal.pipelineId);
      return evaluateMove(pipeline, deal, parsed, await moveContext(op, deal, options.withNextStep === true));
    });
  }
}
