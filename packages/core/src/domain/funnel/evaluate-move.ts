import type { RuleViolation } from '../../errors/crm-error.js';
import type { Deal } from '../../schema/deal.js';
import type { Pipeline, Stage } from '../../schema/pipeline.js';
import type { Task } from '../../schema/task.js';
import { checkStageRules } from './stage-rules.js';

/**
 * The moves of the next-step method. At every stage the manager has three: a productive action
 * (`advance`, or `win` at the end), postponing the next action (`postpone`), or the client's refusal
 * (`lose`). `reopen` brings a closed deal back.
 */
export type FunnelMove =
  | { readonly type: 'advance'; readonly toStage?: string }
  | { readonly type: 'postpone'; readonly until: string; readonly reason?: string; readonly taskId?: string }
  | { readonly type: 'lose'; readonly reason: string; readonly comment?: string }
  | { readonly type: 'win'; readonly stageKey?: string }
  | { readonly type: 'reopen'; readonly toStage: string };

/** What a move is evaluated against besides the pipeline and the deal. */
export interface MoveContext {
  /** The operation's time (canonical timestamp). */
  readonly now: string;
  /** Open tasks of the deal. */
  readonly openTasks: readonly Task[];
  /** Tasks created during the deal's current stage visit (for `requiredTasksDone`). */
  readonly stageTasks: readonly Task[];
  /** The move brings a new next-step task with it. */
  readonly withNextStep?: boolean;
}

export type MoveDirection = 'forward' | 'backward' | 'stay' | 'close' | 'reopen';

/** The answer to "is this move allowed, and if not, why". */
export interface MoveEvaluation {
  readonly allowed: boolean;
  /** Every violated rule (empty when allowed). */
  readonly violations: readonly RuleViolation[];
  readonly from: Stage | undefined;
  /** The stage the deal would be in afterwards. */
  readonly to: Stage | undefined;
  readonly direction: MoveDirection;
}

const v = (rule: string, message: string, data?: Record<string, unknown>): RuleViolation => (data ? { rule, message, data } : { rule, message });

/** The open task a postponement moves: the given one, else the earliest due (undated last). */
export function nextStepTask(openTasks: readonly Task[], taskId?: string): Task | undefined {
  if (taskId) return openTasks.find((t) => t.id === taskId);
  return [...openTasks].sort((a, b) => (a.dueAt ?? '\uffff').localeCompare(b.dueAt ?? '\uffff') || (a.id < b.id ? -1 : 1))[0];
}

/** When the next step is due: the postponed task's due time, else the deal's (a crm without tasks keeps it there). */
export function nextStepDue(deal: Deal, task: Task | undefined): string | undefined {
  return task ? task.dueAt : deal.nextStepDueAt;
}

function strictCheck(pipeline: Pipeline, target: Stage, context: MoveContext, out: RuleViolation[]): void {
  if (!pipeline.settings.strictNextStep) return;
  if (context.openTasks.length > 0 || target.taskTemplates.length > 0 || context.withNextStep) return;
  out.push(v('strict.nextStepRequired', `strict pipeline: the deal needs an open next-step task in ${target.name}`, { stage: target.key }));
}

/**
 * Decides whether a funnel move is allowed, listing every violated rule. Pure: no I/O, no clock —
 * the same answer for the same arguments, in microseconds. `crm.funnel.check` wraps it with data
 * loaded from storage; UIs use it to enable buttons.
 *
 * @example
 * const { allowed, violations } = evaluateMove(pipeline, deal, { type: 'advance' }, { now, openTasks: [], stageTasks: [] });
 */
export function evaluateMove(pipeline: Pipeline, deal: Deal, move: FunnelMove, context: MoveContext): MoveEvaluation {
  const violations: RuleViolation[] = [];
  const from = pipeline.stages.find((s) => s.key === deal.stageKey);
  const open = pipeline.stages.filter((s) => s.kind === 'open');
  const ruleContext = { stageTasks: context.stageTasks };
  const result = (to: Stage | undefined, direction: MoveDirection): MoveEvaluation => ({ allowed: violations.length === 0, violations, from, to, direction });

  if (deal.pipelineId !== pipeline.id) {
    violations.push(v('deal.pipelineMismatch', 'the deal belongs to another pipeline'));
    return result(undefined, 'stay');
  }
  if (move.type !== 'reopen' && deal.status !== 'open') {
    violations.push(v('deal.closed', `the deal is ${deal.status}; reopen it first`, { status: deal.status }));
    return result(undefined, 'stay');
  }

  switch (move.type) {
    case 'advance': {
      const fromIndex = open.findIndex((s) => s.key === deal.stageKey);
      const target = move.toStage ? pipeline.stages.find((s) => s.key === move.toStage) : open[fromIndex + 1];
      if (!target) {
        violations.push(
          move.toStage
            ? v('stage.unknown', `the pipeline has no stage "${move.toStage}"`, { stage: move.toStage })
            : v('stage.noNext', 'this is the last open stage: win or lose the deal', { stage: deal.stageKey }),
        );
        return result(undefined, 'forward');
      }
      if (target.kind !== 'open') {
        violations.push(v('stage.notOpen', `${target.name} closes the deal: use win or lose`, { stage: target.key }));
        return result(target, 'close');
      }
      const toIndex = open.indexOf(target);
      if (toIndex === fromIndex) {
        violations.push(v('stage.same', `the deal is already in ${target.name}`, { stage: target.key }));
        return result(target, 'stay');
      }
      const direction = toIndex > fromIndex ? 'forward' : 'backward';
      if (direction === 'forward' && !pipeline.settings.allowSkip && toIndex > fromIndex + 1) {
        violations.push(v('pipeline.noSkip', `stages cannot be skipped: the next stage is ${open[fromIndex + 1]!.name}`, { next: open[fromIndex + 1]!.key }));
      }
      if (direction === 'backward' && !pipeline.settings.allowBackward) {
        violations.push(v('pipeline.noBackward', 'deals cannot move back in this pipeline'));
      }
      if (direction === 'forward' && from) violations.push(...checkStageRules(from.exitRules, deal, from, 'exit', ruleContext));
      violations.push(...checkStageRules(target.entryRules, deal, target, 'entry', ruleContext));
      strictCheck(pipeline, target, context, violations);
      return result(target, direction);
    }
    case 'win': {
      const target = move.stageKey ? pipeline.stages.find((s) => s.key === move.stageKey) : pipeline.stages.find((s) => s.kind === 'won');
      if (!target || target.kind !== 'won') {
        violations.push(v('stage.notWon', move.stageKey ? `"${move.stageKey}" is not a won stage` : 'the pipeline has no won stage', { stage: move.stageKey }));
        return result(undefined, 'close');
      }
      if (from) violations.push(...checkStageRules(from.exitRules, deal, from, 'exit', ruleContext));
      violations.push(...checkStageRules(target.entryRules, deal, target, 'entry', ruleContext));
      return result(target, 'close');
    }
    case 'lose': {
      const target = pipeline.stages.find((s) => s.kind === 'lost');
      const reason = pipeline.settings.lostReasons.find((r) => r.key === move.reason);
      if (!reason) {
        violations.push(v('lost.unknownReason', `"${move.reason}" is not a lost reason of this pipeline`, { allowed: pipeline.settings.lostReasons.map((r) => r.key) }));
      } else if (reason.requiresComment && !move.comment?.trim()) {
        violations.push(v('lost.commentRequired', `losing with "${reason.label}" needs a comment`, { reason: reason.key }));
      }
      if (!target) violations.push(v('stage.noLost', 'the pipeline has no lost stage'));
      return result(target, 'close');
    }
    case 'postpone': {
      if (move.until <= context.now) {
        violations.push(v('postpone.notLater', 'postpone to a time in the future', { until: move.until, now: context.now }));
      }
      const task = nextStepTask(context.openTasks, move.taskId);
      if (move.taskId && !task) violations.push(v('postpone.unknownTask', `task ${move.taskId} is not an open task of this deal`, { taskId: move.taskId }));
      // Later than the task's stored deadline (all-day tasks: the last ms of their local day, see
      // taskDeadline); without tasks, the deal's recorded due time. Both are normalised ISO instants.
      const due = nextStepDue(deal, task);
      const deadline = task?.deadlineAt ?? due;
      if (due && deadline && move.until <= deadline) {
        violations.push(v('postpone.notLater', `the next step is due ${due} already: postpone to a later time`, { until: move.until, due }));
      }
      return result(from, 'stay');
    }
    case 'reopen': {
      if (deal.status === 'open') {
        violations.push(v('deal.notClosed', 'only won or lost deals can be reopened'));
        return result(from, 'reopen');
      }
      const target = pipeline.stages.find((s) => s.key === move.toStage);
      if (!target) {
        violations.push(v('stage.unknown', `the pipeline has no stage "${move.toStage}"`, { stage: move.toStage }));
        return result(undefined, 'reopen');
      }
      if (target.kind !== 'open') {
        violations.push(v('stage.notOpen', 'reopen into an open stage', { stage: target.key }));
        return result(target, 'reopen');
      }
      violations.push(...checkStageRules(target.entryRules, deal, target, 'entry', ruleContext));
      strictCheck(pipeline, target, context, violations);
      return result(target, 'reopen');
    }
  }
}
