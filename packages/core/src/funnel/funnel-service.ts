import * as z from 'zod/mini';
import { isCrmError } from '../errors/crm-error.js';
import { evaluateMove, type FunnelMove, type MoveContext, type MoveEvaluation } from '../domain/funnel/evaluate-move.js';
import { planMove } from '../domain/funnel/plan-move.js';
import type { TaskDraft } from '../domain/tasks/task-draft.js';
import { compact, reviseRecord } from '../domain/records.js';
import type { Deal } from '../schema/deal.js';
import type { Pipeline } from '../schema/pipeline.js';
import { stageKeySchema } from '../schema/pipeline.js';
import { idSchema, LIMITS, optionalText, timestampInputSchema } from '../schema/primitives.js';
import type { StageVisit } from '../schema/stage-visit.js';
import { nextStepInputSchema, type NextStepInput, type Task } from '../schema/task.js';
import type { CrmContext } from '../crm/context.js';
import { dealRefs } from '../deals/deal-refs.js';
import { newStageVisit } from '../deals/deal-visits.js';
import { closeOpenVisit } from '../deals/deal-visits.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import { stageEntryTasks } from './stage-entry.js';
import { buildTasks, insertTasks, openTasksOf, postponedTask, taskRefs, withNextStep } from '../tasks/task-writer.js';
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

const advanceSchema = z.strictObject({ toStage: z.optional(stageKeySchema), version: versionOptionSchema, nextStep: z.optional(nextStepInputSchema) });
const postponeSchema = z.strictObject({
  until: timestampInputSchema,
  reason: optionalText(LIMITS.mediumText),
  taskId: z.optional(idSchema),
  version: versionOptionSchema,
});
const loseSchema = z.strictObject({ reason: stageKeySchema, comment: optionalText(LIMITS.mediumText), version: versionOptionSchema });
const winSchema = z.strictObject({ stageKey: z.optional(stageKeySchema), version: versionOptionSchema });
const reopenSchema = z.strictObject({ toStage: stageKeySchema, version: versionOptionSchema, nextStep: z.optional(nextStepInputSchema) });

export const funnelMoveSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('advance'), toStage: z.optional(stageKeySchema) }),
  z.strictObject({ type: z.literal('postpone'), until: timestampInputSchema, reason: optionalText(LIMITS.mediumText), taskId: z.optional(idSchema) }),
  z.strictObject({ type: z.literal('lose'), reason: stageKeySchema, comment: optionalText(LIMITS.mediumText) }),
  z.strictObject({ type: z.literal('win'), stageKey: z.optional(stageKeySchema) }),
  z.strictObject({ type: z.literal('reopen'), toStage: stageKeySchema }),
]);

/** Tasks created during the deal's current stage visit (the scope of `requiredTasksDone`). */
async function visitTasks(op: Operation, deal: Deal): Promise<Task[]> {
  const { rows } = await op.query<Task>('task', {
    filter: { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: deal.id }, { op: 'eq', field: 'stageKey', value: deal.stageKey }, { op: 'gte', field: 'createdAt', value: deal.stageEnteredAt }] },
  });
  return rows;
}

async function moveContext(op: Operation, deal: Deal, withNextStep: boolean): Promise<MoveContext> {
  return { now: op.now, openTasks: await openTasksOf(op, deal.id), stageTasks: await visitTasks(op, deal), withNextStep };
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
 * and writes nothing), updates the deal, closes and opens stage visits, creates template and
 * next-step tasks, moves or cancels tasks, and records the move's event.
 */
export async function executeMove(ctx: CrmContext, dealId: string, move: FunnelMove, version: number | undefined, nextStep: NextStepInput | undefined): Promise<Deal> {
  return runWrite(ctx, async (op) => {
    await op.requireFor('deal', dealId, move.type);
    return moveIn(op, dealId, move, version, nextStep);
  });
}

/** Executes a funnel move inside an existing operation (see `executeMove`). */
export async function moveIn(op: Operation, dealId: string, move: FunnelMove, version: number | undefined, nextStep: NextStepInput | undefined): Promise<Deal> {
  {
    const deal = await op.require<Deal>('deal', dealId);
    assertExpectedVersion('deal', deal, version);
    const pipeline = await op.require<Pipeline>('pipeline', deal.pipelineId);
    const context = await moveContext(op, deal, nextStep !== undefined);
    const plan = planMove(pipeline, deal, move, context);

    let open: Task[] = [...context.openTasks];
    const created: Task[] = plan.enter ? await stageEntryTasks(op, plan.deal, plan.enter) : [];
    const links = compact({ dealId: deal.id, contactId: deal.contactId, companyId: deal.companyId });
    if (nextStep) {
      created.push(...(await buildTasks(op, [{ ...nextStep, ...links, ownerId: nextStep.ownerId ?? deal.ownerId } as TaskDraft], 'deals.move', ['nextStep'], [plan.deal])));
    }
    if (plan.cancelOpenTasks) {
      for (const task of open) {
        await op.update('task', task, reviseRecord(task, op.now, (d) => {
          d.status = 'cancelled';
          d.cancelledAt = op.now;
        }));
        op.record('task.cancelled', { type: 'task', id: task.id }, { reason: 'deal lost' }, taskRefs(task));
      }
      open = [];
    }
    if (plan.postpone) {
      const { task, until, reason } = plan.postpone;
      if (task) {
        const moved = postponedTask(task, until, reason, op.now);
        await op.update('task', task, moved);
        op.record('task.postponed', { type: 'task', id: task.id }, compact({ from: task.dueAt, to: until, reason, count: moved.postponeCount }), taskRefs(task));
        open = open.map((t) => (t.id === task.id ? moved : t));
      } else {
        // No next step yet: postponing creates the follow-up at the new date.
        created.push(...(await buildTasks(op, [{ subject: `Follow up: ${deal.title}`, type: 'call', dueAt: until, ...links, ...(deal.ownerId ? { ownerId: deal.ownerId } : {}) }], 'deals.postpone', [], [plan.deal])));
      }
      await countVisitPostponement(op, deal);
    }

    const next = withNextStep(plan.deal, [...open, ...created]);
    await op.update('deal', deal, next);
    if (plan.exit) await closeOpenVisit(op, deal, { exitKind: plan.exit.kind, ...(plan.exit.toStageKey ? { toStageKey: plan.exit.toStageKey } : {}) });
    if (plan.enter) await op.insert('stageVisit', newStageVisit(op, next, deal.stageKey));
    if (next.status !== deal.status) await markVisitsClosedAs(op, deal.id, next.status === 'open' ? undefined : next.status);
    op.record(plan.event.type, { type: 'deal', id: deal.id }, plan.event.data as never, dealRefs(next));
    await insertTasks(op, created);
    return next;
  }
}

/** The public move methods, mixed into `crm.deals`. */
export const dealMoves = {
  advance: (ctx: CrmContext, id: string, options: unknown) => {
    const dealId = parseId(id, 'deals.advance');
    const o = parseInput(advanceSchema, options ?? {}, 'deals.advance');
    return executeMove(ctx, dealId, compact({ type: 'advance' as const, toStage: o.toStage }), o.version, o.nextStep);
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
    const o = parseInput(reopenSchema, options, 'deals.reopen');
    return executeMove(ctx, dealId, { type: 'reopen', toStage: o.toStage }, o.version, o.nextStep);
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
      const deal = await op.requireReadable<Deal>('deal', id);
      const pipeline = await op.require<Pipeline>('pipeline', deal.pipelineId);
      const evaluation = evaluateMove(pipeline, deal, parsed, await moveContext(op, deal, options.withNextStep === true));
      try {
        op.guard?.authorize('deal', parsed.type, deal);
        return evaluation;
      } catch (error) {
        // A move the principal may not make is refused like a broken rule: a verdict, nothing written.
        if (!isCrmError(error, 'FORBIDDEN')) throw error;
        const violation = { rule: 'access.forbidden', message: error.message, data: { ...error.details } };
        return { ...evaluation, allowed: false, violations: [violation, ...evaluation.violations] };
      }
    });
  }
}
