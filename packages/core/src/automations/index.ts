// Entry point of @crmkit/core/automations: declarative rules (trigger + conditions + actions) run exactly once per event from the change feed.
export { automations, type AutomationsFeature } from './automations-feature.js';
export type { AutomationService, AutomationRulePatch, Simulation, RunListOptions } from './automation-service.js';
export type { AutomationOptions } from './automation-settings.js';
export type {
  AutomationRule, AutomationRuleInput, AutomationTrigger, AutomationAction, AutomationRun, ActionOutcome, RunStatus, AutomationCause, AutomationEntity, Duration,
} from './automation-schema.js';
export { createTestMessenger, type AutomationMessenger, type AutomationMessage, type TestMessenger } from './messenger.js';
