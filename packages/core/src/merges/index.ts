// Entry point of @crmkit/core/merges: merging duplicate leads, contacts and companies with undo, as an opt-in crm feature.
export { merges, type MergesFeature } from './merges-feature.js';
export type { MergeService } from './merge-service.js';
export type { MergeEntity, MergeLink, MergeListOptions, MergeOptions, MergeRecord, MergeResult, UndoResult } from '../schema/merge.js';
