import * as z from 'zod/mini';
import { isCrmError, validationError } from '../errors/crm-error.js';
import { evaluateMove, type FunnelMove, type MoveContext, type MoveEvaluation } from '../domain/funnel/evaluate-move.js';
import { movedFields, planMove } from '../domain/funnel/plan-move.js';
import { compact, reviseRecord } from '../domain/records.js';
import type { Deal } from '../schema/deal.js';
import type { Pipeline } from '../schema/pipeline.js';
import { stageKeySchema } from '../schema/pipeline.js';
import { idSchema, isoDateTimeSchema, LIMITS, optionalText } from '../schema/primitives.js';
import { toTimestamp } from '../domain/clock.js';
import type { StageVisit } from '../schema/stage-visit.js';
import type { NextStepInput, Task } from '../schema/task.js';
import type { CrmContext } from '../crm/context.js';
import { dealRefs } from '../deals/deal-refs.js';
import { newStageVisit } from '../deals/deal-visits.js';
import { closeOpenVisit } from '../deals/deal-visits.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { copyInput, parseId, parseInput } from '../crm/parse-input.js';
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

/** The fields of each move (`funnel.check` takes them with `type`, the deal methods as options). */
const MOVE_FIELDS = {
  advance: { toStage: z.optional(stageKeySchema) },
  // `until` is normalised to a canonical timestamp by the callers (no zod transform in core's bundle).
  postpone: { until: isoDateTimeSchema(), reason: optionalText(LIMITS.mediumText), taskId: z.optional(idSchema) },
  lose: { reason: stageKeySchema, comment: optionalText(LIMITS.mediumText) },
  win: { stageKey: z.optional(stageKeySchema) },
  reopen: { toStage: stageKeySchema },
};
type MoveType = keyof typeof MOVE_FIELDS;

/** A parsed move with its `until` as a canonical UTC timestamp. */
const canonical = (move: FunnelMove): FunnelMove => (move.type === 'postpone' ? { ...move, until: toTimestamp(Date.parse(move.until)) } : move);

/** Moves into an open stage may bring a next step (checked by the tasks feature). */
const withNextStep = (type: MoveType) => type === 'advance' || type === 'reopen';

const MOVE_SCHEMAS = Object.fromEntries(
  Object.entries(MOVE_FIELDS).map(([type, fields]) => [
    type,
    {
      options: z.strictObject({ ...fields, version: versionOptionSchema, ...(withNextStep(type as MoveType) ? { nextStep: z.optional(z.custom<NextStepInput>()) } : {}) }),
      move: z.strictObject({ type: z.string(), ...fields }),
    },
  ]),
) as unknown as Record<MoveType, { options: z.ZodMiniType<Record<string, unknown> & { version?: number }>; move: z.ZodMiniType<FunnelMove> }>;

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
  return runWrite(ctx, async (op) => {
    // One read of the deal: the access check and the move see the same version.
    const deal = await op.requireFor<Deal>('deal', dealId, move.type);
    return moveIn(op, dealId, move, version, nextStep, deal);
  });
}

/** Executes a funnel move inside an existing operation (see `executeMove`). */
export async function moveIn(
  op: Operation,
  dealId: string,
  move: FunnelMove,
  version: number | undefined,
  nextStep: NextStepInput | undefined,
  loaded?: Deal,
): Promise<Deal> {
  const deal = loaded ?? (await op.require<Deal>('deal', dealId));
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
    // plan.deal is this move's own copy: no need for another one.
    const own = plan.deal as Deal & { nextStepDueAt?: string };
    if (plan.postpone) own.nextStepDueAt = plan.postpone.until;
    if (move.type === 'lose') delete own.nextStepDueAt;
    next = own;
  }
  if (plan.postpone) await countVisitPostponement(op, deal);
  await op.update('deal', deal, next);
  if (plan.exit) await closeOpenVisit(op, deal, { exitKind: plan.exit.kind, ...(plan.exit.toStageKey ? { toStageKey: plan.exit.toStageKey } : {}) });
  if (plan.enter) await op.insert('stageVisit', newStageVisit(op, next, deal.stageKey));
  if (next.status !== deal.status) await markVisitsClosedAs(op, deal.id, next.status === 'open' ? undefined : next.status);
  op.record(plan.event.type, { type: 'deal', id: deal.id }, Object.assign({}, plan.event.data, movedFields(deal, next)) as never, dealRefs(next));
  await tasks?.insert(op, created);
  return next;
}

/**
 * A public move method of `crm.deals` (`deals.advance`, …): checks the id and options, then executes
 * the move.
 */
export function dealMove(ctx: CrmContext, type: MoveType, id: string, options: unknown): Promise<Deal> {
  const context = `deals.${type}`;
  const dealId = parseId(id, context);
  const step = withNextStep(type) ? checkNextStep(ctx, options) : { issues: [] };
  const { version, nextStep: _nextStep, ...fields } = parseInput(MOVE_SCHEMAS[type].options, options ?? {}, context, step.issues);
  return executeMove(ctx, dealId, canonical(compact({ type, ...fields }) as FunnelMove), version, step.value);
}

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
  async check(dealId: string, move: FunnelMove, options: { withNextStep?: boolean } = {}): Promise<MoveEvaluation> {
    const id = parseId(dealId, 'funnel.check');
    move = copyInput(move, 'funnel.check');
    const type = (move as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !Object.hasOwn(MOVE_SCHEMAS, type)) {
      throw validationError('funnel.check', [{ path: ['type'], code: 'invalid_value', message: `must be one of ${Object.keys(MOVE_SCHEMAS).join(', ')}` }]);
    }
    const parsed = canonical(parseInput(MOVE_SCHEMAS[type as MoveType].move, move, 'funnel.check'));
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
