// Entry point of @crmkit/core: the public API only — a crm with leads, contacts, companies, deals, the
// funnel and pipelines. Opt-in features have their own entry points
// (`@crmkit/core/timeline`, `/tasks`, `/activities`, `/assignment`, `/custom-fields`, `/duplicates`, `/imports`, `/reports`, `/scoring`,
// `/scheduler`, `/observe`); helpers for storage-adapter authors are in `@crmkit/core/storage`; test
// tools in `@crmkit/core/testing`.

export { createCrm, type CreateCrmOptions } from './crm/create-crm.js';
export type { Crm } from './crm/crm.js';
export type { CrmFeature, FeatureRuntime, FeatureApis, CrmWith } from './crm/feature.js';
export type { FeatureHooks, TaskHooks, AssignmentHooks, AutomationHooks, CustomFieldHooks, CustomValuesCheck, Checked, SyncHooks } from './crm/feature-hooks.js';
export type { RecurrenceRules } from './domain/tasks/recurrence-rules.js';
export type { Actor, CrmContext } from './crm/context.js';
export type { Principal, AccessAction } from './crm/access-guard.js';
export type { ListOptions, Page, AggregateOptions } from './crm/list-options.js';
export type { CrmEventHandler } from './crm/event-bus.js';
export { consoleLogger, silentLogger, type Logger } from './crm/logger.js';

export type { LeadService } from './leads/lead-service.js';
export type { ConvertLeadOptions, ConvertLeadResult } from './leads/lead-conversion.js';
export type { ContactService } from './contacts/contact-service.js';
export type { CompanyService } from './companies/company-service.js';
export type { DealService, DealListOptions } from './deals/deal-service.js';
export type { Board, BoardColumn, BoardOptions, BoardTotal } from './deals/deal-board.js';
export type { FunnelService, MoveOptions, MoveWithNextStepOptions } from './funnel/funnel-service.js';
export type { PipelineService } from './pipelines/pipeline-service.js';
export type { EventLogService, TimelineOptions } from './timeline/timeline-service.js';

export {
  CrmError,
  isCrmError,
  type CrmErrorCode,
  type CrmErrorDetails,
  type CrmErrorDetailsMap,
  type ValidationIssue,
  type RuleViolation,
} from './errors/crm-error.js';

export type { CrmEvent, CrmEventMap, CrmEventName, FieldChange, FieldChanges } from './events/event-map.js';

// Pure domain rules: test funnel logic without a crm.
export { systemClock, type Clock, type CancelTimer } from './domain/clock.js';
export { createSeededRandom, createCryptoRandom, type Random } from './domain/random.js';
export { lineTotal, weightedAmount, roundHalfEven, divideHalfEven } from './domain/money.js';
export { minorUnitExponent, isIsoCurrency } from './domain/iso-4217.js';
export { toMajorUnits, formatMoney } from './domain/money-format.js';
export type { PhoneNumberParser } from './domain/phone-numbers.js';
export type { IdentityOptions, DuplicateProbe, DuplicateReason } from './domain/duplicates.js';
export { evaluateMove, nextStepTask, type FunnelMove, type MoveContext, type MoveEvaluation, type MoveDirection } from './domain/funnel/evaluate-move.js';
export { planMove, type MovePlan, type MoveEvent } from './domain/funnel/plan-move.js';
export { checkStageRule, checkStageRules, type RuleContext } from './domain/funnel/stage-rules.js';
export { isRotting, rottingStartsAt } from './domain/funnel/rotting.js';
export type { BusinessCalendar } from './domain/calendar/business-calendar.js';

export { where, type Filter, type ListFilter, type SameFilter, type FilterOp, type Scalar, type SortSpec, type SortDirection, type QuerySpec, type AggregateSpec, type AggregateMetric, type AggregateRow } from './query/query-spec.js';

export type { StorageAdapter, StorageCapabilities, Change, ChangeBatch } from './storage/storage-adapter.js';
export type { CrmEntity, LeadField, ContactField, CompanyField, DealField, TaskField, ActivityField, EventField, StageVisitField, PipelineField } from './storage/crm-schema.js';
export { createMemoryStorage, type MemoryStorage, type MemorySnapshot } from './storage/memory-storage.js';

export type { Money } from './schema/primitives.js';
export type { RecordBase, RecordRef, RecordType, Share } from './schema/record.js';
export type { Lead, LeadStatus, LeadCreateInput, LeadUpdateInput } from './schema/lead.js';
export type { Contact, ContactCreateInput, ContactUpdateInput } from './schema/contact.js';
export type { Company, CompanyCreateInput, CompanyUpdateInput } from './schema/company.js';
export type { Deal, DealStatus, DealCreateInput, DealUpdateInput, LineItem, LineItemInput } from './schema/deal.js';
export type { Pipeline, PipelineCreateInput, Stage, StageInput, StageKind, StageRule, TaskTemplate, TaskTemplateInput, Assignee, LostReason, PipelineSettings, PipelineSettingsInput, RuleFieldOp } from './schema/pipeline.js';
export type { Task, TaskStatus, TaskPriority, TaskRecurrence, TaskCreateInput, NextStepInput } from './schema/task.js';
export type { TaskTypeDefinition, TaskTypeInput, TaskChain } from './schema/task-type.js';
export type { AssignmentStrategy, AssignmentStrategyInput, AssignmentCondition } from './schema/assignment.js';
export type { BusinessCalendarInput } from './schema/calendar.js';
export type { Activity, ActivityKind, ActivityLogInput } from './schema/activity.js';
export type { EventLogEntry } from './schema/event.js';
export type { StageVisit, StageExitKind } from './schema/stage-visit.js';
export type { CustomFieldDefinition, CustomFieldDefineInput, CustomFieldUpdateInput, CustomFieldType, CustomFieldValue, CustomValues, CustomizableEntity } from './schema/custom-field.js';
