// Entry point of @crmkit/core/duplicates: duplicate detection and company matching on lead conversion as an opt-in crm feature.
export { duplicates, type DuplicatesFeature } from './duplicates-feature.js';
export type { DuplicatesService, ReindexReport } from './duplicates-service.js';
export type { DuplicateCandidate, FindDuplicatesOptions } from './duplicate-search.js';
export type { DuplicateProbe, DuplicateReason } from '../domain/duplicates.js';
