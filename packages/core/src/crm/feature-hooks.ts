import type { RecurrenceRules } from '../domain/tasks/recurrence-rules.js';
import type { AccessHooks } from './access-guard.js';

/**
 * Extension points core operations consult. Each is filled by at most one feature; an operation
 * that needs an unfilled one fails with a `VALIDATION` or `RULE_VIOLATION` error naming the feature.
 */
export interface FeatureHooks {
  /** Recurring tasks: starting a series, continuing it on completion or cancellation (the scheduler feature). */
  readonly recurrence?: RecurrenceRules;
  /** Record and field rules of views (`crm.as(principal)`): the access feature. Without it views are trusted. */
  readonly access?: AccessHooks;
}
