import { validationError } from '../errors/crm-error.js';
import { buildSettings, buildStages } from '../domain/pipeline-build.js';
import { newRecordBase } from '../domain/records.js';
import { pipelineCreateInputSchema, type Pipeline, type PipelineCreateInput } from '../schema/pipeline.js';
import type { PipelineField } from '../storage/crm-schema.js';
import type { CrmContext } from './context.js';
import { listRecords, type ListOptions, type Page } from './list-options.js';
import { runRead, runWrite } from './operation.js';
import { parseId, parseInput } from './parse-input.js';

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
    const parsed = parseInput(pipelineCreateInputSchema, input, 'pipelines.create');
    const { stages, issues } = buildStages(parsed.stages);
    if (issues.length) throw validationError('pipelines.create', issues);
    return runWrite(this.ctx, async (op) => {
      const pipeline: Pipeline = {
        ...newRecordBase(parsed.id ?? op.newId('pipeline'), op.tenantId, op.now),
        name: parsed.name,
        stages,
        settings: buildSettings(parsed.settings),
        archived: false,
      };
      await op.insert('pipeline', pipeline);
      op.record('pipeline.created', { type: 'pipeline', id: pipeline.id }, { pipeline });
      return pipeline;
    });
  }

  /** Reads a pipeline. @throws CrmError `NOT_FOUND`. */
  async get(id: string): Promise<Pipeline> {
    const pipelineId = parseId(id, 'pipelines.get');
    return runRead(this.ctx, (op) => op.require<Pipeline>('pipeline', pipelineId));
  }

  /** Lists pipelines, oldest first by default. */
  async list(options?: ListOptions<PipelineField>): Promise<Page<Pipeline>> {
    return runRead(this.ctx, (op) => listRecords<Pipeline>(op, 'pipeline', options, 'pipelines.list', [{ field: 'createdAt' }]));
  }
}
