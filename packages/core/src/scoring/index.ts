// Entry point of @crmkit/core/scoring: lead and deal scoring as an opt-in crm feature.
export { scoring, type ScoringFeature } from './scoring-feature.js';
export type { ScoringService } from './scoring-service.js';
export type { ScoringOptions } from './scoring.js';
export { predict, featureValue, featureValues, UNSET, type ScoringModel, type ScoringFactor, type Prediction, type OutcomeCounts, type FeatureTable } from '../domain/analytics/naive-bayes.js';
