import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { featureValues, predict, type Prediction, type ScoringModel } from '../domain/analytics/naive-bayes.js';
import { reviseRecord } from '../domain/records.js';
import type { Filter } from '../query/query-spec.js';
import type { CustomFieldDefinition } from '../schema/custom-field.js';
import type { Deal } from '../schema/deal.js';
import type { Lead } from '../schema/lead.js';
import type { Pipeline } from '../schema/pipeline.js';
import type { FieldType } from '../query/field-type.js';
import type { Operation } from '../crm/operation.js';
import { scopedAggregate, scopedQuery } from '../crm/list-options.js';

export interface ScoringOptions {
  /** Learn from (and score) deals of this pipeline only. */
  readonly pipelineId?: string;
  /**
   * Features (default: stage, source, country). Categorical fields only: `stage` (where a deal
   * stands; cumulative, see the model), `source`, `country`, `ownerId`, `tags` (each tag a feature),
   * and custom deal fields of type text, select, boolean or multiselect (`custom.segment`; each option
   * of a multiselect a feature). Leads are scored on the fields they share by name (all but `stage`).
   */
  readonly fields?: readonly string[];
  /** Fields whose absence is itself informative, counted as the value `(unset)` (default none). */
  readonly informativeUnset?: readonly string[];
  /** Added to every count (default 0.1, as Odoo). */
  readonly smoothing?: number;
}

export const DEFAULT_FEATURES = ['stage', 'source', 'country'] as const;

const DECLARED: Readonly<Record<string, 'scalar' | 'list'>> = { source: 'scalar', country: 'scalar', ownerId: 'scalar', tags: 'list' };
const CUSTOM_TYPES: Readonly<Record<string, 'scalar' | 'list'>> = { text: 'scalar', select: 'scalar', boolean: 'scalar', multiselect: 'list' };
const PAGE = 500;

interface Feature {
  readonly field: string;
  readonly kind: 'stage' | 'scalar' | 'list';
  /** The type a custom path has in queries (adapters that keep custom values as JSON need it). */
  readonly queryType?: FieldType;
}

/**
 * Resolves the feature list against the deal's fields and custom-field definitions, so every adapter
 * gets the same verdict: a field scoring does not allow is refused with `VALIDATION`, never sent to storage.
 */
async function resolveFeatures(op: Operation, options: ScoringOptions, context: string): Promise<Feature[]> {
  // Custom fields are the custom-fields feature's: without it there are none to score.
  const definitions = (await op.ctx.hooks.customFields?.definitions(op, 'deal')) ?? [];
  const issues: ValidationIssue[] = [];
  const fields = options.fields ?? DEFAULT_FEATURES;
  const features: Feature[] = [];
  fields.forEach((field, i) => {
    if (field === 'stage') return void features.push({ field, kind: 'stage' });
    if (Object.prototype.hasOwnProperty.call(DECLARED, field)) return void features.push({ field, kind: DECLARED[field]! });
    const def: CustomFieldDefinition | undefined = field.startsWith('custom.') ? definitions.find((d) => d.key === field.slice(7)) : undefined;
    const kind = def ? CUSTOM_TYPES[def.type] : undefined;
    if (def && kind) return void features.push({ field, kind, queryType: def.type === 'multiselect' ? 'string[]' : def.type === 'boolean' ? 'boolean' : 'string' });
    issues.push({
      path: ['fields', i],
      code: 'invalid_value',
      message: def
        ? `custom field ${def.key} is a ${def.type} field: scoring uses text, select, boolean and multiselect fields`
        : `"${field.slice(0, 60)}" cannot be scored: use stage, source, country, ownerId, tags or a custom text, select, boolean or multiselect field`,
    });
  });
  if (new Set(fields).size !== fields.length) issues.push({ path: ['fields'], code: 'duplicate', message: 'lists a field twice' });
  (options.informativeUnset ?? []).forEach((field, i) => {
    if (field === 'stage' || !fields.includes(field)) issues.push({ path: ['informativeUnset', i], code: 'invalid_value', message: 'must be one of the scored fields other than stage' });
  });
  if (issues.length) throw validationError(context, issues);
  return features;
}

/**
 * Learns the model from won and lost deals: counts by `GROUP BY` in storage for single-valued fields
 * and the stage, and by reading the closed deals a page at a time for list fields (tags,
 * multiselect), whose elements are features of their own. Every adapter gives the same model.
 */
export async function trainModel(op: Operation, options: ScoringOptions, context = 'scoring.model'): Promise<ScoringModel> {
  // A model of a pipeline that does not exist is NOT_FOUND, not a model learnt from nothing.
  if (options.pipelineId) await op.require('pipeline', options.pipelineId);
  const features = await resolveFeatures(op, options, context);
  const informative = new Set(options.informativeUnset ?? []);
  const scope: Filter[] = [
    { op: 'in', field: 'status', values: ['won', 'lost'] },
    ...(options.pipelineId ? [{ op: 'eq' as const, field: 'pipelineId', value: options.pipelineId }] : []),
  ];
  // In a view the model learns from the deals the principal may read, over fields it may read.
  op.guard?.checkReadFields('deal', features.map((f) => (f.field === 'stage' ? 'closedFromStage' : f.field)), 'scoring');
  // The outcome (status) and the pipeline are read too: scoped reads check them like the features.
  const filter: Filter = { op: 'and', filters: scope };
  const customTypes = Object.fromEntries(features.filter((f) => f.queryType).map((f) => [f.field, f.queryType!]));
  const aggregate = (groupBy: string[]) => scopedAggregate(op, 'deal', { filter, groupBy, metrics: { n: { fn: 'count' } }, customTypes }, context);
  const priorRows = await aggregate(['status']);
  const count = (status: string) => (priorRows.find((r) => r.group.status === status)?.values.n as number | undefined) ?? 0;
  const prior = { won: count('won'), lost: count('lost') };

  const tables: Record<string, Record<string, { won: number; lost: number }>> = {};
  const add = (field: string, value: string, status: unknown, n: number) => {
    const table = (tables[field] ??= {});
    const entry = (table[value] ??= { won: 0, lost: 0 });
    if (status === 'won') entry.won += n;
    else entry.lost += n;
  };

  for (const feature of features) {
    tables[feature.field] ??= {};
    if (feature.kind === 'stage') await countStages(op, aggregate, (value, status, n) => add('stage', value, status, n));
    else if (feature.kind === 'scalar') {
      for (const row of await aggregate(['status', feature.field])) {
        for (const value of featureValues(row.group[feature.field], informative.has(feature.field))) add(feature.field, value, row.group.status, row.values.n as number);
      }
    }
  }
  const lists = features.filter((f) => f.kind === 'list');
  if (lists.length) {
    let after: string | undefined;
    do {
      const page = await scopedQuery<Deal>(op, 'deal', { filter, sort: [{ field: 'id' }], limit: PAGE, customTypes, ...(after ? { after } : {}) }, context);
      for (const deal of page.rows) {
        for (const feature of lists) {
          for (const value of featureValues(valueOf(deal, feature.field), informative.has(feature.field))) add(feature.field, value, deal.status, 1);
        }
      }
      after = page.nextCursor;
    } while (after);
  }
  const sortedTables = Object.fromEntries(
    features.map((f) => [f.field, { values: Object.fromEntries(Object.entries(tables[f.field] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) }]),
  );
  return { prior, features: sortedTables, smoothing: options.smoothing ?? 0.1, informativeUnset: [...informative] };
}

/**
 * Stage counts, cumulative as in Odoo: a lost deal counts for every open stage of its pipeline up to
 * the one it was lost from (from the first, when that is unknown); a won deal for every open stage.
 */
async function countStages(
  op: Operation,
  aggregate: (groupBy: string[]) => Promise<readonly { group: Readonly<Record<string, unknown>>; values: Readonly<Record<string, unknown>> }[]>,
  add: (value: string, status: unknown, n: number) => void,
): Promise<void> {
  const rows = await aggregate(['pipelineId', 'status', 'closedFromStage']);
  const pipelines = new Map<string, Pipeline | undefined>();
  for (const row of rows) {
    const pipelineId = String(row.group.pipelineId);
    if (!pipelines.has(pipelineId)) pipelines.set(pipelineId, await op.get<Pipeline>('pipeline', pipelineId));
    const open = (pipelines.get(pipelineId)?.stages ?? []).filter((s) => s.kind === 'open').map((s) => s.key);
    const n = row.values.n as number;
    const reached = row.group.status === 'won' ? open.length : Math.max(1, open.indexOf(String(row.group.closedFromStage)) + 1);
    for (const stage of open.slice(0, reached)) add(stage, row.group.status, n);
  }
}

/** A record's own value of a field (never an inherited property: `custom.toString` is unset). */
function valueOf(record: Deal | Lead, field: string): unknown {
  const [source, key] = field.startsWith('custom.') ? [record.custom as Record<string, unknown>, field.slice(7)] : [record as unknown as Record<string, unknown>, field];
  return Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
}

/** The features of a record: for deals `stage` is the current stage; leads have no stage. */
export function featuresOf(record: Deal | Lead, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (field === 'stage') {
      if ('stageKey' in record) out.stage = record.stageKey;
    } else out[field] = valueOf(record, field);
  }
  return out;
}

/** Scores a record: won deals are 100, lost deals 0 (as Odoo's won stage); the rest by the model. */
export function scoreRecord(model: ScoringModel, record: Deal | Lead): Prediction {
  if ('stageKey' in record && record.status !== 'open') return { probability: record.status === 'won' ? 100 : 0, factors: [] };
  const features = featuresOf(record, Object.keys(model.features));
  // Leads have no stage: the feature is left out rather than counted as unseen or unset.
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
      const page = await op.query<Deal | Lead>(entity, { filter, sort: [{ field: 'id' }], limit: PAGE, ...(after ? { after } : {}) });
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

