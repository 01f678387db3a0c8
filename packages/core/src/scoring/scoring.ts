import { featureValue, predict, type Prediction, type ScoringModel } from '../domain/analytics/naive-bayes.js';
import { reviseRecord } from '../domain/records.js';
import type { Filter } from '../query/query-spec.js';
import type { Deal } from '../schema/deal.js';
import type { Lead } from '../schema/lead.js';
import type { Operation } from '../crm/operation.js';

export interface ScoringOptions {
  /** Learn from (and score) deals of this pipeline only. */
  readonly pipelineId?: string;
  /**
   * Features: deal fields (and custom fields) that leads share by name. `stage` is the stage a deal
   * was won or lost from (for open deals, their current stage). Default: stage, source, country.
   */
  readonly fields?: readonly string[];
  /** Laplace smoothing (default 1). */
  readonly smoothing?: number;
}

export const DEFAULT_FEATURES = ['stage', 'source', 'country'] as const;

/** Training data field of a feature: `stage` is where closed deals closed from. */
const trainingField = (feature: string) => (feature === 'stage' ? 'closedFromStage' : feature);

/** Learns a naive-Bayes model from won and lost deals, with counts taken in storage (GROUP BY). */
export async function trainModel(op: Operation, options: ScoringOptions): Promise<ScoringModel> {
  // A model of a pipeline that does not exist is NOT_FOUND, not a model learnt from nothing.
  if (options.pipelineId) await op.require('pipeline', options.pipelineId);
  const scope: Filter[] = [
    { op: 'in', field: 'status', values: ['won', 'lost'] },
    ...(options.pipelineId ? [{ op: 'eq' as const, field: 'pipelineId', value: options.pipelineId }] : []),
  ];
  // In a view the model learns from the deals the principal may read, over fields it may read.
  op.guard?.checkReadFields('deal', (options.fields ?? DEFAULT_FEATURES).map(trainingField), 'scoring');
  const filter: Filter = op.scoped('deal', { op: 'and', filters: scope })!;
  const prior = await op.tx.aggregate('deal', op.tenantId, { filter, groupBy: ['status'], metrics: { n: { fn: 'count' } } });
  const count = (rows: typeof prior, status: string) => (rows.find((r) => r.group.status === status)?.values.n as number) ?? 0;
  const features: Record<string, Record<string, { won: number; lost: number }>> = {};
  for (const feature of options.fields ?? DEFAULT_FEATURES) {
    const field = trainingField(feature);
    const rows = await op.tx.aggregate('deal', op.tenantId, { filter, groupBy: ['status', field], metrics: { n: { fn: 'count' } } });
    const table: Record<string, { won: number; lost: number }> = {};
    for (const row of rows) {
      const key = featureValue(row.group[field]) ?? 'null';
      const entry = (table[key] ??= { won: 0, lost: 0 });
      if (row.group.status === 'won') entry.won += row.values.n as number;
      else entry.lost += row.values.n as number;
    }
    features[feature] = table;
  }
  return { prior: { won: count(prior, 'won'), lost: count(prior, 'lost') }, features, smoothing: options.smoothing ?? 1 };
}

/** The features of a record: for deals `stage` is the current stage; leads have no stage. */
export function featuresOf(record: Deal | Lead, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (field === 'stage') out.stage = 'stageKey' in record ? record.stageKey : undefined;
    else if (field.startsWith('custom.')) out[field] = record.custom[field.slice(7)];
    else out[field] = (record as unknown as Record<string, unknown>)[field];
  }
  return out;
}

/** Scores a record with a model. */
export function scoreRecord(model: ScoringModel, record: Deal | Lead): Prediction {
  const fields = Object.keys(model.features);
  const features = featuresOf(record, fields);
  // Leads have no stage: leave the feature out rather than count it as missing.
  if (!('stageKey' in record)) {
    const { stage: _stage, ...rest } = model.features;
    return predict({ ...model, features: rest }, features);
  }
  return predict(model, features);
}

/**
 * Writes `predictedProbability` on open deals (of the pipeline) and open leads, a page at a time.
 * A deal's own `probability` and a lead's manual `probability` are never touched.
 */
export async function applyScores(op: Operation, model: ScoringModel, options: ScoringOptions): Promise<{ deals: number; leads: number }> {
  const counts = { deals: 0, leads: 0 };
  const targets: [entity: 'deal' | 'lead', filter: Filter][] = [
    ['deal', { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'open' }, ...(options.pipelineId ? [{ op: 'eq' as const, field: 'pipelineId', value: options.pipelineId }] : [])] }],
    ['lead', { op: 'in', field: 'status', values: ['new', 'qualified'] }],
  ];
  for (const [entity, filter] of targets) {
    let after: string | undefined;
    do {
      const page = await op.query<Deal | Lead>(entity, { filter, sort: [{ field: 'id' }], limit: 500, ...(after ? { after } : {}) });
      for (const record of page.rows) {
        const { probability } = scoreRecord(model, record);
        if (record.predictedProbability === probability) continue;
        await op.update(entity, record, reviseRecord(record, op.now, (d) => void ((d as { predictedProbability?: number }).predictedProbability = probability)));
        counts[entity === 'deal' ? 'deals' : 'leads']++;
      }
      after = page.nextCursor;
    } while (after);
  }
  return counts;
}
