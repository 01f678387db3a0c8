// Entry point of @crmkit/core/access: access control (policies, directory, shares) for views of a crm.
export { access, type AccessFeature } from './access-feature.js';
export type { AccessService, ShareRef, ReassignReport } from './access-service.js';
export { accessPolicySchema, POLICY_LIMITS, type AccessPolicy, type AccessRole, type FieldRule } from './access-policy.js';
export { directorySchema, DIRECTORY_LIMITS, type Directory, type DirectoryUser } from './access-directory.js';
export { SCOPES, ENTITY_ACTIONS, hiddenFields, type Scope, type PolicyEntity } from './access-model.js';
// What a sync device projects its own results and events with (design sync.md §24): the views' mechanism.
export { projectResult } from './view-projection.js';
export { projectEventData, type EventProjector } from './project-event.js';
export { CompiledAccess, refuseFields, type AccessSummary } from './compiled-access.js';
export { inputFields } from '../crm/input-fields.js';
// What a sync device rebuilds a task's parent scope with (its rows lack `parentOwner`; fix13j).
export { parentAccessOf, primaryParent } from '../domain/parent-access.js';
