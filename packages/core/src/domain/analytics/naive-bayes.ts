/** Won/lost counts of one feature value (raw counts; smoothing is added when predicting). */
export interface OutcomeCounts {
  readonly won: number;
  readonly lost: number;
}

/** The counts of one feature: per value, and the field's totals the likelihoods divide by. */
export interface FeatureTable {
  /** value (as text) → counts among won and lost deals. */
  readonly values: Readonly<Record<string, OutcomeCounts>>;
}

/**
 * A naive-Bayes model of "will this be won", learned from won and lost deals with the conventions of
 * Odoo's predictive lead scoring (see `predict` and docs/reports.md):
 * - `stage` is cumulative: a lost deal counts for every open stage up to the one it was lost from, a
 *   won deal for every open stage (it passed them all); its totals are the won and lost deal counts;
 * - other features count each present value once per deal; each element of a list (tags,
 *   multiselect) is a value of its own; an unset value is not counted, except for the fields listed
 *   as `informativeUnset`, where it is the value `(unset)`.
 */
export interface ScoringModel {
  readonly prior: OutcomeCounts;
  /** field → its table. */
  readonly features: Readonly<Record<string, FeatureTable>>;
  /** Added to every value's won and lost count (Odoo: 0.1), so no single value rules a prediction out. */
  readonly smoothing: number;
  /** Fields whose absence is itself a value, `(unset)`. */
  readonly informativeUnset: readonly string[];
}

/** How one feature value moved the prediction: log of its likelihood ratio won/lost. */
export interface ScoringFactor {
  readonly field: string;
  readonly value: string | null;
  readonly logOdds: number;
  readonly won: number;
  readonly lost: number;
}

export interface Prediction {
  /** Probability of winning, 0–100 with two decimals. */
  readonly probability: number;
  /** Factors by influence, strongest first. */
  readonly factors: readonly ScoringFactor[];
}

/** The value text an unset field counts as, where unset is informative. */
export const UNSET = '(unset)';

/**
 * The values a record holds for a feature, as text: none for an unset value (or `(unset)` when
 * `informative`), one per element for a list (tags, multiselect), `true`/`false` for booleans.
 */
export function featureValues(value: unknown, informative = false): string[] {
  if (Array.isArray(value)) {
    const items = [...new Set(value.filter((v): v is string => typeof v === 'string' && v !== ''))];
    return items.length ? items : informative ? [UNSET] : [];
  }
  if (value === undefined || value === null || value === '') return informative ? [UNSET] : [];
  if (typeof value === 'string') return [value];
  if (typeof value === 'boolean') return [String(value)];
  return [];
}

/** A single value's text (the first of `featureValues`), or `null` when it has none. */
export function featureValue(value: unknown): string | null {
  return featureValues(value)[0] ?? null;
}

/**
 * The probability that a record is won, given its features (field → value):
 * `P(won) Π P(vᵢ | won)` against `P(lost) Π P(vᵢ | lost)`, where `P(v | won) = (won(v) + s) / total_won`
 * with `s` the smoothing and `total_won` the sum over the field's values (for `stage`: the number of
 * won deals). Values never seen in training are ignored (they carry no evidence), as are fields whose
 * won or lost total is zero. With no closed deals at all it is 50.
 *
 * @param model A trained model (`crm.reports.scoringModel()`).
 * @param features field → value (lists for tags and multiselect fields).
 * @returns The probability (two decimals) and the factors that moved it.
 * @example
 * predict(model, { stage: 'proposal', source: 'web', tags: ['vip'] }).probability
 */
export function predict(model: ScoringModel, features: Readonly<Record<string, unknown>>): Prediction {
  const { won: W, lost: L } = model.prior;
  if (W + L === 0) return { probability: 50, factors: [] };
  // Only wins (or only losses) so far: that is all the history says.
  if (W === 0 || L === 0) return { probability: W === 0 ? 0 : 100, factors: [] };
  const s = model.smoothing;
  let logOdds = Math.log(W / L);
  const factors: ScoringFactor[] = [];
  for (const [field, table] of Object.entries(model.features)) {
    const entries = Object.entries(table.values);
    const totalWon = field === 'stage' ? W + s : entries.reduce((n, [, c]) => n + c.won + s, 0);
    const totalLost = field === 'stage' ? L + s : entries.reduce((n, [, c]) => n + c.lost + s, 0);
    if (totalWon <= 0 || totalLost <= 0) continue;
    for (const value of featureValues(features[field], model.informativeUnset.includes(field))) {
      if (!Object.prototype.hasOwnProperty.call(table.values, value)) continue; // unseen: no evidence
      const counts = table.values[value]!;
      const contribution = Math.log((counts.won + s) / totalWon) - Math.log((counts.lost + s) / totalLost);
      logOdds += contribution;
      factors.push({ field, value: value === UNSET ? null : value, logOdds: Number(contribution.toFixed(6)), won: counts.won, lost: counts.lost });
    }
  }
  const probability = 100 / (1 + Math.exp(-logOdds));
  return { probability: Math.round(probability * 100) / 100, factors: factors.sort((x, y) => Math.abs(y.logOdds) - Math.abs(x.logOdds) || (x.field < y.field ? -1 : 1)) };
}
