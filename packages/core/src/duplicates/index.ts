// Entry point of @crmkit/core/duplicates: duplicate detection and company matching on lead conversion as an opt-in crm feature.
export { duplicates, type DuplicatesFeature } from './duplicates-feature.js';
export type { DuplicatesService } from './duplicates-service.js';
export type { ReindexReport } from './reindex.js';
export type { IdentityService } from './identity-service.js';
export type { IdentitySettings } from './identity-cache.js';
export type { DuplicateCandidate, FindDuplicatesOptions } from './duplicate-search.js';
export type { DuplicateProbe, DuplicateReason } from '../domain/duplicates.js';
