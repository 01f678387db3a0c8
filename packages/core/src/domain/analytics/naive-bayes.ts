/** Won/lost counts of one feature value. */
export interface OutcomeCounts {
  readonly won: number;
  readonly lost: number;
}

/**
 * A naive-Bayes model of "will this deal be won" learned from closed deals, as Odoo's predictive
 * lead scoring: per feature, how often each value occurred among won and among lost deals.
 */
export interface ScoringModel {
  readonly prior: OutcomeCounts;
  /** field → value (as text, `null` for missing) → counts. */
  readonly features: Readonly<Record<string, Readonly<Record<string, OutcomeCounts>>>>;
  /** Laplace smoothing added to every count (default 1). */
  readonly smoothing: number;
}

/** How one feature value moved the prediction: log of the likelihood ratio won/lost. */
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

/** The text a feature value is counted under. */
export function featureValue(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * P(won | features) ∝ P(won) Π P(fᵢ | won), with Laplace smoothing over each feature's values (plus
 * one slot for values never seen), combined in log space. With no history it returns 50.
 */
export function predict(model: ScoringModel, features: Readonly<Record<string, unknown>>): Prediction {
  const a = model.smoothing;
  const { won: W, lost: L } = model.prior;
  let logOdds = Math.log((W + a) / (L + a));
  const factors: ScoringFactor[] = [];
  for (const [field, table] of Object.entries(model.features)) {
    const value = featureValue(features[field]);
    const counts = table[value ?? 'null'] ?? { won: 0, lost: 0 };
    const values = Object.keys(table).length + 1;
    const pWon = (counts.won + a) / (W + a * values);
    const pLost = (counts.lost + a) / (L + a * values);
    const contribution = Math.log(pWon / pLost);
    logOdds += contribution;
    factors.push({ field, value, logOdds: Number(contribution.toFixed(6)), won: counts.won, lost: counts.lost });
  }
  const probability = 100 / (1 + Math.exp(-logOdds));
  return { probability: Math.round(probability * 100) / 100, factors: factors.sort((x, y) => Math.abs(y.logOdds) - Math.abs(x.logOdds)) };
}
