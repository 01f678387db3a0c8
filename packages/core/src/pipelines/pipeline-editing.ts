import * as z from 'zod/mini';
import { ruleViolation, validationError } from '../errors/crm-error.js';
import { buildSettings, buildStages } from '../domain/pipeline-build.js';
import { isDealField } from './deal-rule-fields.js';
import { weightedAmount } from '../domain/money.js';
import { diffRecords, reviseRecord } from '../domain/records.js';
import { movedFields } from '../domain/funnel/plan-move.js';
import type { Deal } from '../schema/deal.js';
import {
  pipelineSettingsInputSchema,
  stageInputSchema,
  stageKeySchema,
  stageRuleSchema,
  type TaskTemplate,
  type TaskTemplateInput,
  type Pipeline,
  type Stage,
} from '../schema/pipeline.js';
import { probabilityInput, requiredText, int } from '../schema/primitives.js';
import { dealRefs } from '../deals/deal-refs.js';
import { newStageVisit } from '../deals/deal-visits.js';
import { closeOpenVisit } from '../deals/deal-visits.js';
import type { Operation } from '../crm/operation.js';
import { versionOptionSchema } from '../crm/versioning.js';

export const pipelineUpdateSchema = z.strictObject({
  version: versionOptionSchema,
  name: z.optional(requiredText(100)),
  settings: z.optional(pipelineSettingsInputSchema),
  archived: z.optional(z.boolean()),
});

export const stageUpdateSchema = z.strictObject({
  name: z.optional(requiredText(100)),
  probability: z.optional(probabilityInput),
  rottenDays: z.optional(z.nullable(z.number().check(int(), z.gte(1), z.lte(3650)))),
  entryRules: z.optional(z.array(stageRuleSchema).check(z.maxLength(50))),
  exitRules: z.optional(z.array(stageRuleSchema).check(z.maxLength(50))),
  taskTemplates: z.optional(z.array(z.custom<TaskTemplate, TaskTemplateInput>()).check(z.maxLength(20))),
});

export const addStageSchema = z.strictObject({ stage: stageInputSchema, before: z.optional(stageKeySchema), version: versionOptionSchema });
export const reorderSchema = z.strictObject({ keys: z.array(stageKeySchema).check(z.minLength(1), z.maxLength(50)), version: versionOptionSchema });
export const removeStageSchema = z.strictObject({ moveDealsTo: z.optional(stageKeySchema), version: versionOptionSchema });

/** Re-validates a stage list after an edit: unique keys, known rule fields, one open, won and lost stage at least. */
export function checkStages(stages: readonly Stage[], context: string): Stage[] {
  const { stages: rebuilt, issues } = buildStages(stages, isDealField);
  if (rebuilt.length !== stages.length) {
    issues.push({ path: ['stages'], code: 'invalid_value', message: 'a pipeline keeps at least one open, one won and one lost stage' });
  }
  if (issues.length) throw validationError(context, issues);
  return rebuilt;
}

const DEAL_PAGE = 500;

/** Visits every deal of a stage, a page at a time (edits of big pipelines never load all deals at once). */
async function forEachDealInStage(op: Operation, pipelineId: string, stageKey: string, fn: (deal: Deal) => Promise<void>): Promise<number> {
  let after: string | undefined;
  let count = 0;
  const sort = [{ field: 'id' }];
  do {
    const page = await op.query<Deal>('deal', {
      filter: { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: pipelineId }, { op: 'eq', field: 'stageKey', value: stageKey }] },
      sort,
      limit: DEAL_PAGE,
      ...(after ? { after } : {}),
    });
    for (const deal of page.rows) await fn(deal);
    count += page.rows.length;
    after = page.nextCursor;
  } while (after);
  return count;
}

/** Open deals of a stage follow a changed stage probability, unless their probability is manual. */
export async function followStageProbability(op: Operation, pipeline: Pipeline, stage: Stage): Promise<void> {
  await forEachDealInStage(op, pipeline.id, stage.key, async (deal) => {
    if (deal.status !== 'open' || deal.probabilityManual || deal.probability === stage.probability) return;
    const next = reviseRecord(deal, op.now, (d) => {
      d.probability = stage.probability;
      d.weightedValue = { amount: weightedAmount(d.value.amount, stage.probability), currency: d.value.currency };
    });
    await op.update('deal', deal, next);
    op.record('deal.updated', { type: 'deal', id: deal.id }, { changes: diffRecords(deal, next) }, dealRefs(next));
  });
}

/**
 * Moves every deal of a removed stage to `target`: closes their visits as `stageRemoved`, opens
 * visits in the target, and records `deal.stageReassigned`. History stays.
 */
export async function moveDealsOutOf(op: Operation, pipeline: Pipeline, removed: Stage, target: Stage): Promise<number> {
  return forEachDealInStage(op, pipeline.id, removed.key, async (deal) => {
    const next = reviseRecord(deal, op.now, (d) => {
      d.stageKey = target.key;
      d.stageEnteredAt = op.now;
      d.stagePostponeCount = 0;
      // A stage change ends a manual probability.
      d.probability = target.probability;
      d.probabilityManual = false;
      d.weightedValue = { amount: weightedAmount(d.value.amount, target.probability), currency: d.value.currency };
    });
    await op.update('deal', deal, next);
    await closeOpenVisit(op, deal, { exitKind: 'stageRemoved', toStageKey: target.key });
    await op.insert('stageVisit', newStageVisit(op, next, deal.stageKey));
    op.record('deal.stageReassigned', { type: 'deal', id: deal.id }, { from: removed.key, to: target.key, reason: 'stageRemoved', ...movedFields(deal, next) }, dealRefs(next));
  });
}

/** Counts deals in a stage (any status). */
export async function dealsInStage(op: Operation, pipelineId: string, stageKey: string): Promise<number> {
  const [row] = await op.tx.aggregate('deal', op.tenantId, {
    filter: { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: pipelineId }, { op: 'eq', field: 'stageKey', value: stageKey }] },
    metrics: { n: { fn: 'count' } },
  });
  return (row?.values.n as number) ?? 0;
}

/** Fails with RULE_VIOLATION when a stage of another kind is given as a move target. */
export function requireSameKind(removed: Stage, target: Stage | undefined, key: string): Stage {
  if (!target) throw validationError('pipelines.removeStage', [{ path: ['moveDealsTo'], code: 'not_found', message: `no stage "${key}"` }]);
  if (target.key === removed.key) throw validationError('pipelines.removeStage', [{ path: ['moveDealsTo'], code: 'invalid_value', message: 'must be another stage' }]);
  if (target.kind !== removed.kind) {
    throw ruleViolation([{ rule: 'stage.kindMismatch', message: `deals of a ${removed.kind} stage can only move to another ${removed.kind} stage`, data: { from: removed.key, to: target.key } }]);
  }
  return target;
}

export { buildSettings };
