import * as z from 'zod/mini';
import type { Prediction, ScoringModel } from '../domain/analytics/naive-bayes.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';
import type { Deal } from '../schema/deal.js';
import type { Lead } from '../schema/lead.js';
import { idSchema } from '../schema/primitives.js';
import { applyScores, scoreRecord, trainModel, type ScoringOptions } from './scoring.js';

const featureList = z.optional(z.array(z.string().check(z.regex(/^(stage|[a-zA-Z][a-zA-Z0-9_]{0,47}|custom\.[a-z][a-zA-Z0-9_]{0,47})$/, 'must be a deal field name'))).check(z.minLength(1), z.maxLength(20)));
const scoringSchema = z.strictObject({
  pipelineId: z.optional(idSchema),
  fields: featureList,
  informativeUnset: z.optional(z.array(z.string().check(z.maxLength(60))).check(z.maxLength(20))),
  smoothing: z.optional(z.number().check(z.gt(0), z.lte(100))),
});
const refSchema = z.strictObject({ type: z.enum(['lead', 'deal']), id: idSchema });

/**
 * Lead and deal scoring: a naive-Bayes model learnt from won and lost deals with the conventions of
 * Odoo's predictive lead scoring (cumulative stage counts, each tag a feature, unset values not
 * counted unless informative, unseen values ignored, 0.1 smoothing, won deals at 100 %), with counts
 * taken in storage and identical on every adapter (docs/reports.md). `crm.scoring`, with the `scoring()` feature.
 */
export class ScoringService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Learns the lead-scoring model from won and lost deals.
   *
   * @param options Pipeline, feature fields (categorical: stage, source, country, ownerId, tags, custom
   *   text/select/boolean/multiselect fields), fields whose absence is informative, smoothing.
   * @returns Prior and per-feature outcome counts.
   * @throws CrmError `NOT_FOUND` when `pipelineId` is no pipeline of the tenant; `VALIDATION` for unknown options or fields scoring cannot use (numbers, dates, money).
   * @example
   * const model = await crm.scoring.model({ fields: ['stage', 'source'] });
   */
  async model(options: ScoringOptions = {}): Promise<ScoringModel> {
    const parsed = parseInput(scoringSchema, options, 'scoring.model');
    return runRead(this.ctx, (op) => {
      op.guard?.require('report', 'read');
      return trainModel(op, parsed, 'scoring.model');
    });
  }

  /**
   * Predicts the probability of winning a lead or deal, with the factors that moved it.
   *
   * @param ref The lead or deal.
   * @param options Pipeline, feature fields and smoothing of the model.
   * @returns The probability (0–100, two decimals) and the factors.
   * @throws CrmError `NOT_FOUND` when the record (or the `pipelineId` given) does not exist; `VALIDATION` for bad options.
   * @example
   * const { probability, factors } = await crm.scoring.score({ type: 'deal', id });
   */
  async score(ref: { type: 'lead' | 'deal'; id: string }, options: ScoringOptions = {}): Promise<Prediction> {
    const target = parseInput(refSchema, ref, 'scoring.score');
    const parsed = parseInput(scoringSchema, options, 'scoring.score');
    return runRead(this.ctx, async (op) => {
      op.guard?.require('report', 'read');
      const record = await op.requireReadable<Deal | Lead>(target.type, target.id);
      const model = await trainModel(op, parsed, 'scoring.score');
      // The factors show the record's own values: each must be readable on its entity (a lead's too).
      const fields = Object.keys(model.features).flatMap((f) => (f !== 'stage' ? [f] : target.type === 'deal' ? ['stageKey'] : []));
      op.guard?.checkReadFields(target.type, fields, 'scoring.score');
      return scoreRecord(model, record);
    });
  }

  /**
   * Scores every open deal and lead and stores `predictedProbability`. Manual probabilities are never
   * overwritten: scoring has its own field.
   *
   * @param options Pipeline, feature fields and smoothing of the model.
   * @returns How many deals and leads got a new score.
   * @throws CrmError `NOT_FOUND` when `pipelineId` is no pipeline of the tenant.
   * @example
   * const { deals, leads } = await crm.scoring.apply();
   */
  async apply(options: ScoringOptions = {}): Promise<{ deals: number; leads: number }> {
    const parsed = parseInput(scoringSchema, options, 'scoring.apply');
    return runWrite(this.ctx, async (op) => {
      // Scoring every open deal and lead is administration: in a view it needs the settings grant, and then runs over every row.
      op.guard?.require('setting', 'update');
      op.guard = undefined;
      return applyScores(op, await trainModel(op, parsed, 'scoring.apply'), parsed);
    });
  }
}
