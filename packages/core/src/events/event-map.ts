import type { Activity } from '../schema/activity.js';
import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import type { CustomFieldDefinition } from '../schema/custom-field.js';
import type { Deal } from '../schema/deal.js';
import type { EventLogEntry } from '../schema/event.js';
import type { Lead } from '../schema/lead.js';
import type { Pipeline } from '../schema/pipeline.js';
import type { Money } from '../schema/primitives.js';
import type { Task } from '../schema/task.js';
import type { AssignmentStrategy } from '../schema/assignment.js';
import type { BusinessCalendar } from '../domain/calendar/business-calendar.js';

/** A field that changed, with its old and new value (`undefined` = absent). */
export interface FieldChange {
  readonly from: unknown;
  readonly to: unknown;
}
export type FieldChanges = Readonly<Record<string, FieldChange>>;

/** What one action of an automation run did (the automations feature). */
export interface AutomationActionOutcome {
  readonly type: string;
  /** The record it created or changed (`task:…`, `deal:…`), or the event it recorded. */
  readonly ref?: string;
  readonly detail?: string;
}

/** The payload of `lead.merged`, `contact.merged`, `company.merged`. */
export interface MergedEvent {
  readonly mergeId: string;
  readonly duplicateIds: readonly string[];
  readonly changes: FieldChanges;
  /** How many links (fields of deals, tasks, activities, leads, contacts, event-log entries) were re-pointed. */
  readonly links: number;
}

/** The payload of `lead.mergeUndone`, `contact.mergeUndone`, `company.mergeUndone`. */
export interface MergeUndoneEvent {
  readonly mergeId: string;
  readonly restoredIds: readonly string[];
  readonly changes: FieldChanges;
}

/**
 * Every domain event crmkit records and emits, with its payload. The event log stores the same
 * payload, so handlers and the timeline read one shape.
 */
/** A stage move's changes of derived fields (`probability`, `probabilityManual`, `weightedValue`), absent when none changed. */
export interface MovedFields {
  readonly changes?: FieldChanges;
}

export interface CrmEventMap {
  /** `restoredBy`: the merge whose undo brought the record back (automation rules do not run for it). */
  'lead.created': { readonly lead: Lead; readonly restoredBy?: string };
  'lead.updated': { readonly changes: FieldChanges };
  'lead.qualified': { readonly from: string };
  'lead.disqualified': { readonly reason?: string };
  'lead.converted': {
    readonly contactId: string;
    readonly companyId?: string;
    readonly dealId?: string;
    readonly companyCreated: boolean;
    readonly contactCreated: boolean;
    /** Why an existing contact was linked instead of creating one. */
    readonly contactMatchedBy?: 'contactId' | 'email' | 'phone';
  };
  'lead.removed': { readonly lead: Lead };
  /** Duplicates were merged into this lead (the merges feature); `changes`: its fields that changed; `links`: records re-pointed. */
  'lead.merged': MergedEvent;
  /** A merge into this lead was undone: the duplicates `restoredIds` are back, links re-pointed to them. */
  'lead.mergeUndone': MergeUndoneEvent;
  /** Duplicates were merged into this contact (the merges feature); `changes`: its fields that changed; `links`: records re-pointed. */
  'contact.merged': MergedEvent;
  /** A merge into this contact was undone: the duplicates `restoredIds` are back, links re-pointed to them. */
  'contact.mergeUndone': MergeUndoneEvent;
  /** Duplicates were merged into this company (the merges feature); `changes`: its fields that changed; `links`: records re-pointed. */
  'company.merged': MergedEvent;
  /** A merge into this company was undone: the duplicates `restoredIds` are back, links re-pointed to them. */
  'company.mergeUndone': MergeUndoneEvent;
  /** `restoredBy`: the merge whose undo brought the record back (automation rules do not run for it). */
  'contact.created': { readonly contact: Contact; readonly restoredBy?: string };
  'contact.updated': { readonly changes: FieldChanges };
  'contact.removed': { readonly contact: Contact };
  /** `restoredBy`: the merge whose undo brought the record back (automation rules do not run for it). */
  'company.created': { readonly company: Company; readonly restoredBy?: string };
  'company.updated': { readonly changes: FieldChanges };
  'company.removed': { readonly company: Company };
  'deal.created': { readonly deal: Deal };
  'deal.updated': { readonly changes: FieldChanges };
  'deal.removed': { readonly deal: Deal };
  'pipeline.created': { readonly pipeline: Pipeline };
  'pipeline.updated': { readonly changes: FieldChanges };
  'customField.defined': { readonly definition: CustomFieldDefinition };
  'customField.updated': { readonly changes: FieldChanges };
  'activity.logged': { readonly activity: Activity };
  'deal.stageChanged': { readonly from: string; readonly to: string; readonly direction: 'forward' | 'backward' } & MovedFields;
  'deal.won': { readonly from: string; readonly stageKey: string; readonly amount: Money } & MovedFields;
  /** `stageKey`: the lost stage the deal entered (absent on events recorded before it was added). */
  'deal.lost': { readonly from: string; readonly stageKey?: string; readonly reason: string; readonly comment?: string } & MovedFields;
  'deal.reopened': { readonly from: string; readonly to: string } & MovedFields;
  'deal.postponed': {
    readonly stageKey: string;
    readonly until: string;
    /** The next step's previous due time. */
    readonly from?: string;
    readonly reason?: string;
    /** Postponements over the deal's life and in this stage visit, including this one. */
    readonly count: number;
    readonly stageCount: number;
  };
  /** The deal had no activity for its stage's `rottenDays`; emitted once per rotting episode. */
  'deal.rotting': { readonly key: string; readonly stageKey: string; readonly since: string; readonly lastActivityAt: string; readonly rottenDays: number; readonly ownerId?: string };
  /** A stage was removed and the deal moved to another stage. */
  'deal.stageReassigned': { readonly from: string; readonly to: string; readonly reason: 'stageRemoved' } & MovedFields;
  'deal.assigned': { readonly ownerId: string; readonly previousOwnerId?: string; readonly strategyId?: string; readonly reason: string };
  'lead.assigned': { readonly ownerId: string; readonly previousOwnerId?: string; readonly strategyId?: string; readonly reason: string };
  'assignmentStrategy.created': { readonly strategy: AssignmentStrategy };
  'assignmentStrategy.updated': { readonly changes: FieldChanges };
  'task.created': { readonly task: Task };
  'task.updated': { readonly changes: FieldChanges };
  'task.completed': { readonly task: Task; readonly outcome?: string };
  'task.postponed': { readonly from?: string; readonly to: string; readonly reason?: string; readonly count: number };
  'task.cancelled': { readonly reason?: string };
  /** A reminder offset before the due time was reached. `key` identifies the notice: handlers dedupe by it. */
  'task.reminder': { readonly key: string; readonly dueAt: string; readonly minutesBefore: number; readonly ownerId?: string; readonly subject: string };
  /** The task's due time was reached. */
  'task.due': { readonly key: string; readonly dueAt: string; readonly ownerId?: string; readonly subject: string };
  /** The task is still open after its due time (fired once, when it becomes overdue). */
  'task.overdue': { readonly key: string; readonly dueAt: string; readonly ownerId?: string; readonly subject: string };
  'calendar.updated': { readonly calendar: BusinessCalendar };
  /** The tenant's access policy was set (`roles`: its role names) or removed (`roles: null`). */
  'access.policyChanged': { readonly roles: readonly string[] | null };
  /** The tenant's directory (users, teams, who reports to whom) was replaced. */
  'access.directoryChanged': { readonly users: number; readonly teams: number };
  /** A webhook endpoint was disabled after failing persistently (the webhooks feature). */
  /** `origin` only (scheme, host, port): an endpoint's path and query often hold a credential, and every catch-all endpoint receives this event. */
  'webhook.disabled': { readonly endpointId: string; readonly origin: string; readonly reason: string; readonly failures: number };
  /** An automation rule was defined, edited, enabled or disabled (the automations feature); subject `automationRule`. */
  'automation.defined': { readonly rule: { readonly id: string; readonly name: string; readonly revision: number; readonly enabled: boolean; readonly [key: string]: unknown } };
  /** An automation rule ran for the subject record: the run-log entry on its timeline (also a waiting run continuing). */
  'automation.ran': {
    readonly runId: string;
    readonly ruleId: string;
    readonly ruleName: string;
    readonly revision: number;
    readonly status: 'done' | 'waiting' | 'skipped' | 'failed';
    readonly triggerKey: string;
    readonly triggerType: string;
    readonly depth: number;
    readonly actions: readonly AutomationActionOutcome[];
    readonly reason?: string;
    readonly error?: { readonly code?: string; readonly message: string; readonly details?: unknown };
    readonly resumeAt?: string;
  };
  /** A rule's `sendMessage` action: the host's messenger sends it (idempotency key: the event id). */
  'automation.message': { readonly channel: 'email' | 'sms'; readonly template: string; readonly data: Readonly<Record<string, unknown>>; readonly ruleId: string; readonly runId: string };
}

export type CrmEventName = keyof CrmEventMap;

/** A typed event: an event-log entry whose `data` matches its `type`. */
export type CrmEvent<K extends CrmEventName = CrmEventName> = K extends CrmEventName
  ? Omit<EventLogEntry, 'type' | 'data'> & { readonly type: K; readonly data: CrmEventMap[K] }
  : never;
