import type * as z from 'zod/mini';
import { produce, type Draft } from '../domain/draft.js';
import { notFound, ruleViolation, validationError } from '../errors/crm-error.js';
import { stageKeySchema, type Stage } from '../schema/pipeline.js';
import { diffRecords, reviseRecord } from '../domain/records.js';
import {
  addStageSchema,
  checkStages,
  dealsInStage,
  followStageProbability,
  moveDealsOutOf,
  pipelineUpdateSchema,
  removeStageSchema,
  reorderSchema,
  requireSameKind,
  stageUpdateSchema,
} from './pipeline-editing.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import type { Operation } from '../crm/operation.js';

/** Applies a recipe to a pipeline without touching version fields (the edit wrapper stamps them). */
function reviseRecordOf(pipeline: Pipeline, recipe: (draft: Draft<Pipeline>) => void): Pipeline {
  return produce(pipeline, recipe);
}
import { buildSettings, buildStages } from '../domain/pipeline-build.js';
import { isDealField } from './deal-rule-fields.js';
import { newRecordBase } from '../domain/records.js';
import { pipelineCreateInputSchema, type Pipeline, type PipelineCreateInput } from '../schema/pipeline.js';
import type { PipelineField } from '../storage/crm-schema.js';
import type { CrmContext } from '../crm/context.js';
import { listRecords, type ListOptions, type Page } from '../crm/list-options.js';
import { readRecord, runRead, runWrite } from '../crm/operation.js';
import { copyInput, parseArgument, parseId, parseInput } from '../crm/parse-input.js';
import { checkReferences, type ReferenceCheck } from '../crm/references.js';
import { checkTaskSetup } from './task-setup.js';

/**
 * Applies a pipeline edit in one transaction with a version check and a `pipeline.updated` event;
 * the automations feature checks the result against its enabled rules before it is written. A
 * function, not a method: no `crm.pipelines.edit` is reachable that would skip the public methods' checks.
 */
function editPipeline(
  ctx: CrmContext,
  context: string,
  id: string,
  version: number | undefined,
  change: (pipeline: Pipeline) => Pipeline,
  after?: (op: Operation, next: Pipeline) => Promise<void>,
  refs?: readonly ReferenceCheck[],
): Promise<Pipeline> {
  return runWrite(ctx, async (op) => {
    op.guard?.require('pipeline', 'update');
    const pipeline = await op.require<Pipeline>('pipeline', id);
    if (refs) await checkReferences(op, context, refs);
    assertExpectedVersion('pipeline', pipeline, version);
    const next = change(pipeline);
    if (next === pipeline) return pipeline;
    const stamped = { ...next, version: pipeline.version + 1, updatedAt: op.now };
    await op.ctx.hooks.automations?.checkPipeline(op, stamped, context);
    await op.update('pipeline', pipeline, stamped);
    op.record('pipeline.updated', { type: 'pipeline', id: pipeline.id }, { changes: diffRecords(pipeline, stamped) });
    await after?.(op, stamped);
    return stamped;
  });
}

/**
 * Pipelines (sales funnels) and their stages. `crm.pipelines`.
 */
export class PipelineService {
  /** @internal */
  constructor(protected readonly ctx: CrmContext) {}

  /**
   * Creates a pipeline. Stages come in order; `won` and `lost` stages are appended when missing.
   *
   * @example
   * const sales = await crm.pipelines.create({
   *   name: 'Sales',
   *   stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal', probability: 60 }],
   * });
   */
  async create(input: PipelineCreateInput): Promise<Pipeline> {
    // Read once as plain data: the peeks below cannot meet a throwing getter.
    const raw = copyInput(input, 'pipelines.create') as { stages?: unknown; settings?: { strictNextStep?: unknown } } | undefined;
    const setup = checkTaskSetup(this.ctx, (Array.isArray(raw?.stages) ? raw.stages : []).map((s: { taskTemplates?: unknown } | undefined, i) => [s?.taskTemplates, ['stages', i, 'taskTemplates']] as const), [raw?.settings?.strictNextStep, ['settings', 'strictNextStep']]);
    const parsed = parseInput(pipelineCreateInputSchema, raw, 'pipelines.create', setup.issues);
    const { stages, issues } = buildStages(parsed.stages.map((s, i) => ({ ...s, taskTemplates: setup.templates[i] })), isDealField);
    if (issues.length) throw validationError('pipelines.create', issues);
    return runWrite(this.ctx, async (op) => {
      op.guard?.require('pipeline', 'create');
      await checkReferences(op, 'pipelines.create', setup.refs);
      const pipeline: Pipeline = {
        ...newRecordBase(parsed.id ?? op.newId('pipeline'), op.tenantId, op.now),
        name: parsed.name,
        stages,
        settings: buildSettings(parsed.settings),
        archived: false,
      };
      await op.ctx.hooks.automations?.checkPipeline(op, pipeline, 'pipelines.create');
      await op.insert('pipeline', pipeline);
      op.record('pipeline.created', { type: 'pipeline', id: pipeline.id }, { pipeline });
      return pipeline;
    });
  }

  /** Reads a pipeline. @throws CrmError `NOT_FOUND`. */
  async get(id: string): Promise<Pipeline> {
    const pipelineId = parseId(id, 'pipelines.get');
    // A view reads in a transaction, where its guard is loaded.
    if (this.ctx.principal) {
      return runRead(this.ctx, (op) => {
        op.guard?.require('pipeline', 'read');
        return op.require<Pipeline>('pipeline', pipelineId);
      });
    }
    return readRecord<Pipeline>(this.ctx, 'pipeline', pipelineId, 'pipelines.get');
  }

  /** Renames a pipeline, changes its settings, or archives it (archived pipelines take no new deals). */
  async update(id: string, patch: z.input<typeof pipelineUpdateSchema>): Promise<Pipeline> {
    const pipelineId = parseId(id, 'pipelines.update');
    const raw = copyInput(patch, 'pipelines.update');
    const setup = checkTaskSetup(this.ctx, [], [(raw as { settings?: { strictNextStep?: unknown } } | undefined)?.settings?.strictNextStep, ['settings', 'strictNextStep']]);
    const parsed = parseInput(pipelineUpdateSchema, raw, 'pipelines.update', setup.issues);
    return editPipeline(this.ctx, 'pipelines.update', pipelineId, parsed.version, (pipeline) =>
      reviseRecordOf(pipeline, (d) => {
        if (parsed.name !== undefined) d.name = parsed.name;
        if (parsed.settings) d.settings = buildSettings(parsed.settings, pipeline.settings);
        if (parsed.archived !== undefined) d.archived = parsed.archived;
      }),
    );
  }

  /**
   * Adds a stage before `before` (default: after the last open stage).
   *
   * @example
   * await crm.pipelines.addStage(id, { stage: { key: 'demo', name: 'Demo', probability: 40 }, before: 'proposal' });
   */
  async addStage(id: string, input: z.input<typeof addStageSchema>): Promise<Pipeline> {
    const pipelineId = parseId(id, 'pipelines.addStage');
    const raw = copyInput(input, 'pipelines.addStage');
    const setup = checkTaskSetup(this.ctx, [[(raw as { stage?: { taskTemplates?: unknown } } | undefined)?.stage?.taskTemplates, ['stage', 'taskTemplates']]]);
    const parsed = parseInput(addStageSchema, raw, 'pipelines.addStage', setup.issues);
    return editPipeline(this.ctx, 'pipelines.addStage', pipelineId, parsed.version, (pipeline) => {
      const [stage] = buildStages([{ ...parsed.stage, taskTemplates: setup.templates[0] }], isDealField).stages;
      let index = parsed.before ? pipeline.stages.findIndex((s) => s.key === parsed.before) : pipeline.stages.map((s) => s.kind).lastIndexOf('open') + 1;
      if (index < 0) throw validationError('pipelines.addStage', [{ path: ['before'], code: 'not_found', message: `no stage "${parsed.before}"` }]);
      if (parsed.stage.probability === undefined && stage!.kind === 'open') {
        // Between its neighbours' probabilities, so the funnel stays monotonic by default.
        const prev = pipeline.stages.slice(0, index).reverse().find((s) => s.kind === 'open')?.probability ?? 0;
        const next = pipeline.stages.slice(index).find((s) => s.kind === 'open')?.probability ?? 100;
        (stage as { probability: number }).probability = Math.round((prev + next) / 2);
      }
      index = Math.max(0, index);
      const stages = [...pipeline.stages.slice(0, index), stage!, ...pipeline.stages.slice(index)];
      return reviseRecordOf(pipeline, (d) => void (d.stages = checkStages(stages, 'pipelines.addStage')));
    }, undefined, setup.refs);
  }

  /**
   * Changes a stage: rename, probability (open deals without a manual probability follow it),
   * rotting, rules, task templates. The key never changes.
   */
  async updateStage(id: string, key: string, patch: z.input<typeof stageUpdateSchema>): Promise<Pipeline> {
    const pipelineId = parseId(id, 'pipelines.updateStage');
    const stageKey = parseArgument(stageKeySchema, key, 'pipelines.updateStage', 'key');
    const raw = copyInput(patch, 'pipelines.updateStage') ?? {};
    const { version, ...rest } = raw as { version?: number };
    const setup = checkTaskSetup(this.ctx, [[(rest as { taskTemplates?: unknown }).taskTemplates, ['taskTemplates']]]);
    // A patch that is no object (42) is refused by the schema, not spread into an empty one.
    const parsed = { ...parseInput(stageUpdateSchema, typeof raw === 'object' ? rest : raw, 'pipelines.updateStage', setup.issues), ...(setup.templates[0] ? { taskTemplates: setup.templates[0] } : {}) };
    parseArgument(versionOptionSchema, version, 'pipelines.updateStage', 'version');
    let changed: Stage | undefined;
    const result = await editPipeline(this.ctx, 'pipelines.updateStage', pipelineId, version, (pipeline) => {
      const current = pipeline.stages.find((s) => s.key === stageKey);
      if (!current) throw notFound('stage', stageKey);
      if (parsed.probability !== undefined && current.kind !== 'open' && parsed.probability !== current.probability) {
        throw validationError('pipelines.updateStage', [{ path: ['probability'], code: 'invalid_value', message: `a ${current.kind} stage keeps probability ${current.probability}` }]);
      }
      const stages = pipeline.stages.map((s) => {
        if (s.key !== stageKey) return s;
        const next = { ...s, ...Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined && v !== null)) } as Stage;
        if (parsed.rottenDays === null) delete (next as { rottenDays?: number }).rottenDays;
        changed = next;
        return next;
      });
      return reviseRecordOf(pipeline, (d) => void (d.stages = checkStages(stages, 'pipelines.updateStage')));
    }, async (op, pipeline) => {
      if (changed && parsed.probability !== undefined) await followStageProbability(op, pipeline, pipeline.stages.find((s) => s.key === stageKey)!);
    }, setup.refs);
    return result;
  }

  /** Puts stages in a new order; `keys` must list every stage once. */
  async reorderStages(id: string, input: z.input<typeof reorderSchema>): Promise<Pipeline> {
    const pipelineId = parseId(id, 'pipelines.reorderStages');
    const parsed = parseInput(reorderSchema, input, 'pipelines.reorderStages');
    return editPipeline(this.ctx, 'pipelines.reorderStages', pipelineId, parsed.version, (pipeline) => {
      const byKey = new Map(pipeline.stages.map((s) => [s.key, s]));
      const complete = parsed.keys.length === byKey.size && new Set(parsed.keys).size === byKey.size && parsed.keys.every((k) => byKey.has(k));
      if (!complete) throw validationError('pipelines.reorderStages', [{ path: ['keys'], code: 'invalid_value', message: `must list every stage once: ${[...byKey.keys()].join(', ')}` }]);
      return reviseRecordOf(pipeline, (d) => void (d.stages = parsed.keys.map((k) => byKey.get(k)!)));
    });
  }

  /**
   * Removes a stage. A stage holding deals needs `moveDealsTo` (a stage of the same kind): its deals
   * move there with their history kept (visits closed as `stageRemoved`).
   *
   * @throws CrmError `RULE_VIOLATION` when deals are in the stage and no target is given.
   */
  async removeStage(id: string, key: string, options: z.input<typeof removeStageSchema> = {}): Promise<Pipeline> {
    const pipelineId = parseId(id, 'pipelines.removeStage');
    const stageKey = parseArgument(stageKeySchema, key, 'pipelines.removeStage', 'key');
    const parsed = parseInput(removeStageSchema, options, 'pipelines.removeStage');
    return runWrite(this.ctx, async (op) => {
      op.guard?.require('pipeline', 'update');
      const pipeline = await op.require<Pipeline>('pipeline', pipelineId);
      assertExpectedVersion('pipeline', pipeline, parsed.version);
      const removed = pipeline.stages.find((s) => s.key === stageKey);
      if (!removed) throw notFound('stage', stageKey);
      const stages = checkStages(pipeline.stages.filter((s) => s.key !== stageKey), 'pipelines.removeStage');
      await op.ctx.hooks.automations?.checkPipeline(op, { ...pipeline, stages }, 'pipelines.removeStage');
      const count = await dealsInStage(op, pipeline.id, stageKey);
      if (count > 0) {
        if (!parsed.moveDealsTo) {
          throw ruleViolation([{ rule: 'stage.hasDeals', message: `${count} deals are in ${removed.name}: give moveDealsTo`, data: { stage: stageKey, deals: count } }]);
        }
        const target = requireSameKind(removed, pipeline.stages.find((s) => s.key === parsed.moveDealsTo), parsed.moveDealsTo);
        await moveDealsOutOf(op, pipeline, removed, target);
      }
      const next = reviseRecord(pipeline, op.now, (d) => void (d.stages = stages));
      await op.update('pipeline', pipeline, next);
      op.record('pipeline.updated', { type: 'pipeline', id: pipeline.id }, { changes: diffRecords(pipeline, next) });
      return next;
    });
  }

  /** Lists pipelines, oldest first by default. */
  async list(options?: ListOptions<PipelineField>): Promise<Page<Pipeline>> {
    return runRead(this.ctx, (op) => {
      op.guard?.require('pipeline', 'read');
      return listRecords<Pipeline>(op, 'pipeline', options, 'pipelines.list', [{ field: 'createdAt' }]);
    });
  }
}
