import type { FieldChanges, MergedEvent, MergeUndoneEvent } from '../events/event-map.js';
import type { CompleteEventMessages, EventFormat } from './event-messages.js';

const quoted = (text: string) => `“${text}”`;
const fields = (changes: FieldChanges, list: (items: readonly string[]) => string) => list(Object.keys(changes));
const suffix = (text: string | undefined, before = ': ') => (text ? `${before}${text}` : '');
const words = (camel: string) => camel.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** Whether the timeline shown is that of one of `ids` (a merge's duplicates), not the event's subject (the survivor). */
const seenFrom = (ids: readonly string[], f: EventFormat) => f.timelineOf !== undefined && ids.includes(f.timelineOf.id);
const merged = (one: string, many?: string) => (e: { data: MergedEvent }, f: EventFormat) =>
  seenFrom(e.data.duplicateIds, f)
    ? `Merged into another ${one}`
    : `Merged ${count(e.data.duplicateIds.length, `duplicate ${one}`, `duplicate ${many ?? `${one}s`}`)} into this one${e.data.links ? ` (${count(e.data.links, 'link')} moved)` : ''}`;
const mergeUndone = (one: string, many?: string) => (e: { data: MergeUndoneEvent }, f: EventFormat) =>
  seenFrom(e.data.restoredIds, f) ? `Merge into another ${one} undone: restored` : `Merge undone: ${count(e.data.restoredIds.length, one, many)} restored`;
/** A record's creation, or its return when a merge was undone (`restoredBy`). */
const created = (kind: string, name: string, data: { restoredBy?: string }) => `${kind} ${quoted(name)} ${data.restoredBy ? 'restored (merge undone)' : 'created'}`;
const matchedBy = { contactId: 'the given contact', email: 'e-mail', phone: 'phone' } as const;

/**
 * The built-in English sentence of every event type. The type makes it complete: a new event type
 * without a sentence fails to compile.
 */
export const englishEventMessages: CompleteEventMessages = {
  'lead.created': (e) => created('Lead', e.data.lead.name, e.data),
  'lead.updated': (e, f) => `Lead updated: ${fields(e.data.changes, f.list)}`,
  'lead.qualified': () => 'Lead qualified',
  'lead.disqualified': (e) => `Lead disqualified${suffix(e.data.reason)}`,
  'lead.converted': (e) =>
    `Lead converted${e.data.dealId ? ' into a deal' : ''}: ${e.data.contactCreated ? 'new contact' : `existing contact (matched by ${matchedBy[e.data.contactMatchedBy ?? 'contactId']})`}${e.data.companyId ? (e.data.companyCreated ? ', new company' : ', existing company') : ''}`,
  'lead.removed': (e) => `Lead ${quoted(e.data.lead.name)} removed`,
  'lead.assigned': (e) => `Lead assigned to ${e.data.ownerId}${suffix(e.data.previousOwnerId, ' (was ')}${e.data.previousOwnerId ? ')' : ''}`,
  'lead.merged': merged('lead'),
  'lead.mergeUndone': mergeUndone('lead'),
  'contact.merged': merged('contact'),
  'contact.mergeUndone': mergeUndone('contact'),
  'company.merged': merged('company', 'companies'),
  'company.mergeUndone': mergeUndone('company', 'companies'),
  'contact.created': (e) => created('Contact', e.data.contact.name, e.data),
  'contact.updated': (e, f) => `Contact updated: ${fields(e.data.changes, f.list)}`,
  'contact.removed': (e) => `Contact ${quoted(e.data.contact.name)} removed`,
  'company.created': (e) => created('Company', e.data.company.name, e.data),
  'company.updated': (e, f) => `Company updated: ${fields(e.data.changes, f.list)}`,
  'company.removed': (e) => `Company ${quoted(e.data.company.name)} removed`,
  'deal.created': (e, f) => `Deal ${quoted(e.data.deal.title)} created (${f.money(e.data.deal.value)}) in ${f.stage(e.data.deal.stageKey)}`,
  'deal.updated': (e, f) => `Deal updated: ${fields(e.data.changes, f.list)}`,
  'deal.removed': (e) => `Deal ${quoted(e.data.deal.title)} removed`,
  'deal.stageChanged': (e, f) => `Moved ${e.data.direction === 'backward' ? 'back ' : ''}from ${f.stage(e.data.from)} to ${f.stage(e.data.to)}`,
  'deal.won': (e, f) => `Won (${f.money(e.data.amount)})`,
  'deal.lost': (e) => `Lost: ${e.data.reason}${suffix(e.data.comment, ' — ')}`,
  'deal.reopened': (e, f) => `Reopened in ${f.stage(e.data.to)}`,
  'deal.postponed': (e, f) => `Next step postponed to ${f.dateTime(e.data.until)}${suffix(e.data.reason)}${e.data.count > 1 ? ` (postponed ${e.data.count} times)` : ''}`,
  'deal.rotting': (e, f) => `No activity for ${e.data.rottenDays} days in ${f.stage(e.data.stageKey)}`,
  'deal.stageReassigned': (e, f) => `Moved from ${f.stage(e.data.from)} to ${f.stage(e.data.to)}: its stage was removed`,
  'deal.assigned': (e) => `Deal assigned to ${e.data.ownerId}${suffix(e.data.previousOwnerId, ' (was ')}${e.data.previousOwnerId ? ')' : ''}`,
  'pipeline.created': (e) => `Pipeline ${quoted(e.data.pipeline.name)} created`,
  'pipeline.updated': (e, f) => `Pipeline updated: ${fields(e.data.changes, f.list)}`,
  'customField.defined': (e) => `Custom field ${quoted(e.data.definition.label)} defined`,
  'customField.updated': (e, f) => `Custom field updated: ${fields(e.data.changes, f.list)}`,
  'assignmentStrategy.created': (e) => `Assignment strategy ${quoted(e.data.strategy.name)} created`,
  'assignmentStrategy.updated': (e, f) => `Assignment strategy updated: ${fields(e.data.changes, f.list)}`,
  'activity.logged': (e) => `${capital(e.data.activity.kind)} logged${suffix(e.data.activity.outcome ?? e.data.activity.subject)}`,
  'task.created': (e, f) => `Task ${quoted(e.data.task.subject)} planned${e.data.task.dueAt ? ` for ${f.dateTime(e.data.task.dueAt)}` : e.data.task.dueDate ? ` for ${e.data.task.dueDate}` : ''}`,
  'task.updated': (e, f) => `Task updated: ${fields(e.data.changes, f.list)}`,
  'task.completed': (e) => `Task ${quoted(e.data.task.subject)} completed${suffix(e.data.outcome)}`,
  'task.postponed': (e, f) => `Task postponed to ${f.dateTime(e.data.to)}${suffix(e.data.reason)}`,
  'task.cancelled': (e) => `Task cancelled${suffix(e.data.reason)}`,
  'task.reminder': (e) => `Reminder: ${quoted(e.data.subject)} is due in ${e.data.minutesBefore} minutes`,
  'task.due': (e) => `${quoted(e.data.subject)} is due`,
  'task.overdue': (e) => `${quoted(e.data.subject)} is overdue`,
  'calendar.updated': (e) => `Business calendar updated (${e.data.calendar.timezone})`,
  'access.policyChanged': (e, f) => (e.data.roles === null ? 'Access policy removed' : `Access policy set (roles: ${f.list(e.data.roles)})`),
  'access.directoryChanged': (e) => `Directory replaced: ${e.data.users} users, ${e.data.teams} teams`,
  'webhook.disabled': (e) => `Webhook ${e.data.endpointId} (${e.data.origin}) disabled after ${e.data.failures} failures: ${e.data.reason}`,
  'automation.defined': (e) => `Automation rule "${e.data.rule.name}" saved (revision ${e.data.rule.revision}, ${e.data.rule.enabled ? 'on' : 'off'})`,
  'automation.ran': (e) => `Automation "${e.data.ruleName}" ${e.data.status}${e.data.reason ? `: ${e.data.reason}` : e.data.error ? `: ${e.data.error.message}` : ''}`,
  'automation.message': (e) => `Automation sent the ${e.data.channel} "${e.data.template}"`,
  fallback: (e) => {
    const [subject = e.subjectType, verb = ''] = e.type.split('.');
    return `${capital(words(subject))} ${words(verb)}`.trim();
  },
};
