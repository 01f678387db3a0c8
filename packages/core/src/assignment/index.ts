// Entry point of @crmkit/core/assignment: round-robin, load-balanced and rule-based owner assignment as an opt-in crm feature.
export { assignment, type AssignmentFeature } from './assignment-feature.js';
export type { AssignmentService } from './assignment-service.js';
export type { AssignmentResult } from './resolve-owner.js';
export { chooseOwner, type AssignmentChoice } from '../domain/assignment.js';
