import fc from 'fast-check';
import type { CrmWith } from '../../crm/feature.js';
import type { AllFeatures } from '../create-test-crm.js';

type Crm = CrmWith<AllFeatures>;

/** Values wrong for every field, whatever its type. */
export const ALWAYS_BAD: readonly unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, () => 1, Symbol('s'), 10n];

/** Text no engine stores alike: a lone surrogate, NUL. */
export const UNSTORABLE_TEXT: readonly string[] = ['\ud800', 'x\udc00y', 'with\u0000nul'];

/** Values that are wrong for a field, given a valid value of it (text fields accept any short text, etc.). */
export function poisonFor(valid: unknown): unknown[] {
  const objects = [[], {}, { nested: { deep: [1, 2, 3] } }, JSON.parse('{"__proto__": {"polluted": true}}'), new Date()];
  if (typeof valid === 'string') return [...ALWAYS_BAD, 'x'.repeat(100_001), ...UNSTORABLE_TEXT, 42, true, ...objects];
  if (typeof valid === 'number') return [...ALWAYS_BAD, -1.5, 2 ** 60, '7', true, ...objects];
  if (typeof valid === 'boolean') return [...ALWAYS_BAD, 'true', 1, ...objects];
  return [...ALWAYS_BAD, 'x'.repeat(100_001), ...UNSTORABLE_TEXT, 42, new Date()];
}

/** The records a bad-input run works on (created by `seedBadInputData`). */
export interface BadInputIds {
  readonly lead: string;
  readonly contact: string;
  readonly company: string;
  readonly deal: string;
  readonly pipeline: string;
}

/** A public method called with one input; `valid` is an input it accepts, to poison field by field. */
export interface BadInputTarget {
  readonly name: string;
  readonly call: (crm: Crm, input: unknown, ids: BadInputIds) => Promise<unknown>;
  readonly valid?: Record<string, unknown>;
}

const any = <T>(x: unknown) => x as T;

/** Every public method that takes caller input, with a valid input where field-by-field poisoning makes sense. */
export const BAD_INPUT_TARGETS: readonly BadInputTarget[] = [
  { name: 'leads.create', call: (c, x) => c.leads.create(any(x)), valid: { name: 'Ann', email: 'a@b.co', expectedValue: { amount: 1, currency: 'EUR' }, tags: ['x'] } },
  { name: 'leads.update', call: (c, x, ids) => c.leads.update(ids.lead, any(x)), valid: { name: 'Ann', version: 1, country: 'DE' } },
  { name: 'leads.update(id)', call: (c, x) => c.leads.update(any(x), { name: 'x' }) },
  { name: 'leads.get', call: (c, x) => c.leads.get(any(x)) },
  { name: 'leads.list', call: (c, x) => c.leads.list(any(x)), valid: { limit: 5, where: { op: 'eq', field: 'status', value: 'new' } } },
  { name: 'leads.list(same)', call: (c, x) => c.leads.list({ where: any({ op: 'same', field: 'email', value: x }) }) },
  { name: 'leads.qualify', call: (c, x, ids) => c.leads.qualify(ids.lead, any(x)), valid: { version: 1 } },
  { name: 'leads.disqualify', call: (c, x, ids) => c.leads.disqualify(ids.lead, any(x)), valid: { reason: 'no', version: 1 } },
  { name: 'leads.convert', call: (c, x, ids) => c.leads.convert(ids.lead, any(x)), valid: { createCompany: false, deal: { title: 'x' } } },
  { name: 'duplicates.find', call: (c, x) => c.duplicates.find(any(x)), valid: { email: 'a@b.co', name: 'x' } },
  { name: 'leads.remove', call: (c, x, ids) => c.leads.remove(ids.lead, any(x)), valid: { version: 1 } },
  { name: 'contacts.create', call: (c, x) => c.contacts.create(any(x)), valid: { name: 'Bo', phone: '+1 555 0100', companyId: 'co_x' } },
  { name: 'contacts.update', call: (c, x, ids) => c.contacts.update(ids.contact, any(x)), valid: { name: 'Bo', version: 1 } },
  { name: 'contacts.list', call: (c, x) => c.contacts.list(any(x)), valid: { limit: 2, orderBy: [{ field: 'name', direction: 'asc' }] } },
  { name: 'contacts.remove', call: (c, x) => c.contacts.remove(any(x)) },
  { name: 'companies.create', call: (c, x) => c.companies.create(any(x)), valid: { name: 'Co', domain: 'co.com' } },
  { name: 'companies.update', call: (c, x, ids) => c.companies.update(ids.company, any(x)), valid: { name: 'Co', version: 1 } },
  { name: 'companies.get', call: (c, x) => c.companies.get(any(x)) },
  { name: 'deals.create', call: (c, x) => c.deals.create(any(x)), valid: { title: 'D', currency: 'EUR', lineItems: [{ name: 'l', quantity: 1, unitPrice: 1 }], expectedCloseDate: '2026-01-01', custom: { tier: 'gold' } } },
  { name: 'deals.update', call: (c, x, ids) => c.deals.update(ids.deal, any(x)), valid: { title: 'D', probability: 50, version: 1 } },
  { name: 'deals.list', call: (c, x) => c.deals.list(any(x)), valid: { where: { op: 'gte', field: 'value.amount', value: 1 }, limit: 3 } },
  { name: 'deals.list(cursor)', call: (c, x) => c.deals.list({ cursor: any(x), limit: 1 }) },
  { name: 'deals.aggregate', call: (c, x) => c.deals.aggregate(any(x)), valid: { groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } } },
  { name: 'deals.board', call: (c, x, ids) => c.deals.board(ids.pipeline, any(x)), valid: { limitPerStage: 5 } },
  { name: 'imports.deals', call: (c, x) => c.imports.deals(any([x])), valid: { title: 'D', value: { amount: 1, currency: 'EUR' } } },
  { name: 'imports.deals(options)', call: (c, x) => c.imports.deals([{ title: 'ok' }], any(x)), valid: { progressEvery: 10 } },
  { name: 'merges.contacts(duplicateIds)', call: (c, x, ids) => c.merges.contacts(ids.contact, any(x)) },
  { name: 'merges.leads(options)', call: (c, x, ids) => c.merges.leads(ids.lead, ['missing_lead'], any(x)), valid: { fields: { name: 'survivor', 'custom.size': 'survivor' }, fillEmpty: true, version: 1 } },
  { name: 'merges.undo', call: (c, x) => c.merges.undo(any(x)) },
  { name: 'merges.get', call: (c, x) => c.merges.get(any(x)) },
  { name: 'merges.list', call: (c, x) => c.merges.list(any(x)), valid: { survivorId: 'ctc_1', limit: 2 } },
  { name: 'deals.remove', call: (c, x, ids) => c.deals.remove(ids.deal, any(x)), valid: { version: 1 } },
  { name: 'pipelines.create', call: (c, x) => c.pipelines.create(any(x)), valid: { name: 'P', stages: [{ key: 'a', name: 'A', probability: 10, rottenDays: 3 }], settings: { allowSkip: false } } },
  { name: 'pipelines.get', call: (c, x) => c.pipelines.get(any(x)) },
  { name: 'customFields.define', call: (c, x) => c.customFields.define(any(x)), valid: { entity: 'lead', key: 'size', label: 'Size', type: 'number' } },
  { name: 'customFields.update', call: (c, x) => c.customFields.update('deal', 'tier', any(x)), valid: { label: 'T', required: false } },
  { name: 'activities.log', call: (c, x) => c.activities.log(any(x)), valid: { kind: 'call', direction: 'outbound', occurredAt: '2026-01-01T10:00:00+02:00', durationMinutes: 5 } },
  { name: 'activities.list', call: (c, x) => c.activities.list(any(x)), valid: { limit: 1 } },
  { name: 'tasks.create', call: (c, x) => c.tasks.create(any(x)), valid: { subject: 'Call', dueAt: '2026-01-01T10:00:00Z', recurrence: 'FREQ=WEEKLY;COUNT=2' } },
  { name: 'tasks.agenda', call: (c, x) => c.tasks.agenda(any(x)), valid: { limit: 5 } },
  { name: 'timeline', call: (c, x) => c.timeline(any(x)), valid: { type: 'deal', id: 'deal_x' } },
  { name: 'timeline options', call: (c, x, ids) => c.timeline({ type: 'deal', id: ids.deal }, any(x)), valid: { limit: 3, types: ['deal.created'] } },
  { name: 'eventLog.list', call: (c, x) => c.eventLog.list(any(x)), valid: { limit: 3 } },
  { name: 'identity.set', call: (c, x) => c.identity.set(any(x)), valid: { defaultRegion: null } },
  { name: 'scoring.model', call: (c, x) => c.scoring.model(any(x)), valid: { fields: ['stage', 'tags'] } },
];

/** Creates the records the targets address, the same way on any crm. */
export async function seedBadInputData(crm: Crm): Promise<BadInputIds> {
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
  await crm.customFields.define({ entity: 'deal', key: 'tier', label: 'Tier', type: 'text' });
  const company = await crm.companies.create({ id: 'co_x', name: 'Co' });
  const contact = await crm.contacts.create({ name: 'C' });
  const lead = await crm.leads.create({ name: 'L' });
  const deal = await crm.deals.create({ title: 'D' });
  return { lead: lead.id, contact: contact.id, company: company.id, deal: deal.id, pipeline: pipeline.id };
}

/** A cursor forged for the default deal order whose JSON escapes smuggle a lone surrogate. */
export const FORGED_CURSOR = btoa(JSON.stringify({ s: 'createdAt:desc', v: ['2026-01-01T00:00:00.000Z'], id: '\ud800' })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** Arbitrary inputs: anything a caller could pass, malformed Unicode included. */
export const anyInput = fc.oneof(
  fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true, maxDepth: 3 }),
  fc.constantFrom<unknown>(...UNSTORABLE_TEXT, null, FORGED_CURSOR, { where: { op: 'eq', field: 'title', value: '\ud800' } }, { cursor: FORGED_CURSOR }),
);
