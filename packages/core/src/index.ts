// Entry point of @crmkit/core. Explicit named exports only: everything here is public API.

export { createCrm, type Crm, type CreateCrmOptions } from './services/create-crm.js';
export type { Actor } from './services/context.js';
export type { ListOptions, Page, AggregateOptions } from './services/list-options.js';
export type { LeadService, FindDuplicatesProbe } from './services/lead-service.js';
export type { ContactService } from './services/contact-service.js';
export type { CompanyService } from './services/company-service.js';
export type { DealService, DealListOptions } from './services/deal-service.js';
export type { FunnelService, MoveOptions, MoveWithNextStepOptions } from './services/funnel-service.js';
export type { AssignmentService, AssignmentResult } from './services/assignment-service.js';
export type { CalendarService } from './services/calendar-service.js';
export type { TaskService, CompleteTaskResult, Agenda, Workload } from './services/task-service.js';
export type { ReportService } from './services/reports/report-service.js';
export type { FunnelReport, FunnelReportOptions, FunnelStage } from './services/reports/funnel-report.js';
export type { VelocityReport, VelocityOptions, VelocityRow } from './services/reports/velocity-report.js';
export type { ForecastReport, ForecastOptions, ForecastMonth, ForecastAmount } from './services/reports/forecast-report.js';
export type { PerformanceReport, PerformanceOptions, OwnerPerformance } from './services/reports/performance-report.js';
export type { CustomerReport, CustomerReportOptions, CustomerValue } from './services/reports/customer-report.js';
export type { DrillDown, CurrencyAmount, TabularReport } from './services/reports/report-types.js';
export type { ScoringOptions } from './services/reports/scoring.js';
export { predict, featureValue, type ScoringModel, type ScoringFactor, type Prediction, type OutcomeCounts } from './domain/analytics/naive-bayes.js';
export { convertMinor, minorUnitExponent, type ExchangeRates } from './domain/analytics/currency.js';
export { toCsv, type ReportRow } from './domain/analytics/csv.js';
export { Observer, type ObserverSnapshot } from './observe/observer.js';
export type { ObserveApi } from './observe/observe-api.js';
export type { RecordObserver } from './observe/record-observer.js';
export type { ListObserver } from './observe/list-observer.js';
export type { BoardObserver, BoardView, BoardAction, BoardActionResult, BoardMoves } from './observe/board-observer.js';
export type { AgendaObserver, AgendaOptions } from './observe/agenda-observer.js';
export type { TimelineObserver, TimelineData } from './observe/timeline-observer.js';
export { shareRecords } from './observe/structural-sharing.js';
export type { Scheduler, SchedulerOptions, TickReport, NotificationRecord } from './services/scheduler/scheduler.js';
export { taskNotices, pendingNotices, nextNoticeAt, type TaskNotice, type NoticeSettings } from './domain/tasks/notices.js';
export type { TaskTypeDefinition, TaskTypeInput, TaskChain } from './schema/task-type.js';
export type { CreateManyOptions } from './services/deal-import.js';
export type { Board, BoardColumn, BoardOptions, BoardTotal } from './services/deal-board.js';
export type { PipelineService } from './services/pipeline-service.js';
export type { CustomFieldService } from './services/custom-field-service.js';
export type { ActivityService } from './services/activity-service.js';
export type { EventLogService, TimelineOptions } from './services/timeline-service.js';
export type { ConvertLeadOptions, ConvertLeadResult } from './services/lead-conversion.js';
export type { DuplicateCandidate, FindDuplicatesOptions } from './services/duplicate-search.js';
export { consoleLogger, silentLogger, type Logger } from './services/logger.js';

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
export type { CrmEventHandler } from './events/event-bus.js';

export { systemClock, type Clock, type CancelTimer } from './domain/clock.js';
export { createSeededRandom, createCryptoRandom, type Random } from './domain/random.js';
export { lineTotal, weightedAmount, roundHalfEven, divideHalfEven } from './domain/money.js';
export { normalizeEmail, normalizeDomain, phoneKey, normalizeName, normalizeCompanyName, PUBLIC_EMAIL_DOMAINS } from './domain/normalize.js';
export { jaroWinkler, nameSimilarity } from './domain/similarity.js';
export { evaluateMove, nextStepTask, type FunnelMove, type MoveContext, type MoveEvaluation, type MoveDirection } from './domain/funnel/evaluate-move.js';
export { planMove, type MovePlan, type MoveEvent } from './domain/funnel/plan-move.js';
export { checkStageRule, checkStageRules, type RuleContext } from './domain/funnel/stage-rules.js';
export { testCondition, isPresent } from './domain/funnel/conditions.js';
export { isRotting, rottingStartsAt } from './domain/funnel/rotting.js';
export { chooseOwner, type AssignmentChoice } from './domain/assignment.js';
export {
  addBusinessDays,
  addCalendarDays,
  addWorkingMinutes,
  businessDaysBetween,
  isWorkingDay,
  isWorkingTime,
  nextWorkingTime,
  DEFAULT_CALENDAR,
  type BusinessCalendar,
} from './domain/calendar/business-calendar.js';
export { zonedParts, zonedToInstant, zoneOffset, isValidTimeZone, type ZonedParts } from './domain/calendar/zoned-time.js';
export { parseRecurrence, occurrences, occurrenceAfter, type RecurrenceRule } from './domain/tasks/rrule.js';
export { scoreDuplicate, duplicateKeys, type DuplicateProbe, type DuplicateReason } from './domain/duplicates.js';

export { where, type Filter, type FilterOp, type Scalar, type SortSpec, type SortDirection, type QuerySpec, type AggregateSpec, type AggregateMetric, type AggregateRow } from './query/query-spec.js';
export { matchFilter } from './query/match.js';
export { filterFields } from './query/query-spec.js';
export { compareValues, compareStrings, compareRows, compareRowToPosition } from './query/compare.js';
export { encodeCursor, decodeCursor, type CursorPosition } from './query/cursor.js';
export { executeQuery, executeAggregate, paginate } from './query/execute.js';
export { getPath } from './query/path.js';

export type { StorageAdapter, StorageTx, StorageCapabilities, Row, WriteOp, Change, ChangeBatch, RuntimeIndexSpec } from './storage/storage-adapter.js';
export { CUSTOM_PATH_PATTERN, entitySchemaOf, type StorageSchema, type EntitySchema, type IndexSpec, type FieldType, type AggregateViewSpec } from './storage/storage-schema.js';
export { CRM_STORAGE_SCHEMA, type CrmEntity, type LeadField, type ContactField, type CompanyField, type DealField, type TaskField, type ActivityField, type EventField, type StageVisitField, type PipelineField } from './storage/crm-schema.js';
export { createMemoryStorage, type MemoryStorage, type MemorySnapshot } from './storage/memory-storage.js';
export { assertOpen as assertAdapterOpen, assertRowTenant, checkWriteVersion, deliverChangeBatch, checkRuntimeIndexes } from './storage/adapter-guards.js';
export { planViewRead, viewGroupKey, viewGroupId, emptyViewGroup, addToViewGroup, sameViewContribution, viewMoves, type ViewGroup, type ViewRead, type ViewMove, type RowMove } from './storage/aggregate-views.js';
// Toolkit for adapters over ordered key-value engines (IndexedDB): key encoding, key-path layouts, the index planner, staged writes.
export { encodeValue, encodeString, compareKeys, MISSING, type Key } from './storage/kv/key-encoding.js';
export { buildStoreLayouts, withRuntimeIndexes, toStored, fromStored, RUNTIME_INDEX, type StoreLayout, type KeySource, type StoredRecord } from './storage/kv/index-layout.js';
export { planQuery, type Plan, type KeyRange } from './storage/kv/index-planner.js';
export { queryCandidates, aggregateCandidates, growing, type PlanScan, type CandidateSource } from './storage/kv/candidate-reads.js';
export { StagedWrites } from './storage/kv/staged-writes.js';
export { ViewChanges, viewRecordKey, type StoredViewGroup } from './storage/kv/view-changes.js';

export type { Money } from './schema/primitives.js';
export type { RecordBase, RecordRef, RecordType } from './schema/record.js';
export type { Lead, LeadStatus, LeadCreateInput, LeadUpdateInput } from './schema/lead.js';
export type { Contact, ContactCreateInput, ContactUpdateInput } from './schema/contact.js';
export type { Company, CompanyCreateInput, CompanyUpdateInput } from './schema/company.js';
export type { Deal, DealStatus, DealCreateInput, DealUpdateInput, LineItem, LineItemInput } from './schema/deal.js';
export type { Pipeline, PipelineCreateInput, Stage, StageInput, StageKind, StageRule, TaskTemplate, TaskTemplateInput, Assignee, LostReason, PipelineSettings, PipelineSettingsInput, RuleFieldOp } from './schema/pipeline.js';
export type { Task, TaskStatus, TaskPriority, TaskRecurrence, TaskCreateInput, NextStepInput } from './schema/task.js';
export type { AssignmentStrategy, AssignmentStrategyInput, AssignmentCondition } from './schema/assignment.js';
export type { BusinessCalendarInput } from './schema/calendar.js';
export type { Activity, ActivityKind, ActivityLogInput } from './schema/activity.js';
export type { EventLogEntry } from './schema/event.js';
export type { StageVisit, StageExitKind } from './schema/stage-visit.js';
export type { CustomFieldDefinition, CustomFieldDefineInput, CustomFieldUpdateInput, CustomFieldType, CustomFieldValue, CustomValues, CustomizableEntity } from './schema/custom-field.js';
