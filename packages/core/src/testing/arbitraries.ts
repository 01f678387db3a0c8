import fc from 'fast-check';
import type { Activity } from '../schema/activity.js';
import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import type { CustomFieldDefinition } from '../schema/custom-field.js';
import type { Deal, LineItem } from '../schema/deal.js';
import type { EventLogEntry } from '../schema/event.js';
import type { Lead } from '../schema/lead.js';
import type { Pipeline, Stage } from '../schema/pipeline.js';
import type { StageVisit } from '../schema/stage-visit.js';
import type { Task } from '../schema/task.js';
import { weightedAmount, lineTotal } from '../domain/money.js';

/**
 * fast-check arbitraries for every crmkit record. Generated records are valid against their zod
 * schemas, so they can seed storage directly in property tests.
 */
export interface RecordArbitraryOptions {
  /** Tenant of generated records (default `t1`). */
  readonly tenantId?: string;
}

const MIN = Date.parse('2020-01-01T00:00:00.000Z');
const MAX = Date.parse('2030-12-31T23:59:59.999Z');

export const idArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/);
export const timestampArb = fc.integer({ min: MIN, max: MAX }).map((ms) => new Date(ms).toISOString());
export const isoDateArb = fc.integer({ min: MIN, max: MAX }).map((ms) => new Date(ms).toISOString().slice(0, 10));
export const textArb = (max = 60) => fc.string({ minLength: 1, maxLength: max }).filter((s) => /\S/.test(s));
export const userIdArb = fc.constantFrom('u1', 'u2', 'u3', 'manager@acme.test');
export const currencyArb = fc.constantFrom('EUR', 'USD', 'GBP', 'JPY');
export const moneyArb = fc.record({ amount: fc.integer({ min: 0, max: 100_000_000 }), currency: currencyArb });
export const tagsArb = fc.uniqueArray(fc.constantFrom('vip', 'b2b', 'retail', 'partner', 'churn-risk'), { maxLength: 3 });
export const emailArb = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9.+]{0,10}[a-z0-9]$/), fc.constantFrom('gmail.com', 'acme.com', 'example.org', 'mail.ru'))
  .map(([local, domain]) => `${local}@${domain}`);
export const phoneArb = fc.stringMatching(/^\+[1-9]\d{9,11}$/);

const base = (tenantId: string) =>
  fc.record({ id: idArb, version: fc.integer({ min: 1, max: 50 }), createdAt: timestampArb, updatedAt: timestampArb }).map((r) => ({
    ...r,
    tenantId,
    updatedAt: r.updatedAt < r.createdAt ? r.createdAt : r.updatedAt,
  }));

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A valid lead record. */
export function leadArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<Lead> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      name: textArb(),
      email: optional(emailArb),
      phone: optional(phoneArb),
      companyName: optional(textArb()),
      source: optional(fc.constantFrom('web-form', 'checkout', 'call', 'import')),
      ownerId: optional(userIdArb),
      status: fc.constantFrom('new', 'qualified', 'disqualified'),
      tags: tagsArb,
    })
    .map(({ base: b, ...rest }) => strip({ ...b, ...rest, custom: {}, searchKeys: [] }) as Lead);
}

/** A valid contact record. */
export function contactArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<Contact> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      name: textArb(),
      email: optional(emailArb),
      phone: optional(phoneArb),
      ownerId: optional(userIdArb),
      country: optional(fc.constantFrom('DE', 'FR', 'US', 'RU')),
      tags: tagsArb,
    })
    .map(({ base: b, ...rest }) => strip({ ...b, ...rest, custom: {}, searchKeys: [] }) as Contact);
}

/** A valid company record. */
export function companyArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<Company> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      name: textArb(),
      domain: optional(fc.constantFrom('acme.com', 'globex.de', 'initech.io')),
      industry: optional(fc.constantFrom('retail', 'banking', 'manufacturing')),
      ownerId: optional(userIdArb),
      tags: tagsArb,
    })
    .map(({ base: b, ...rest }) => strip({ ...b, ...rest, custom: {}, searchKeys: [] }) as Company);
}

const lineItemArb: fc.Arbitrary<LineItem> = fc
  .record({ name: textArb(40), quantity: fc.integer({ min: 1, max: 50_000 }).map((q) => q / 1000), unitPrice: fc.integer({ min: 0, max: 1_000_000 }) })
  .map((l) => ({ ...l, total: lineTotal(l.quantity, l.unitPrice) }));

/** A valid open, won or lost deal record in a pipeline with stages `new`, `proposal`, `won`, `lost`. */
export function dealArb(options: RecordArbitraryOptions & { pipelineId?: string } = {}): fc.Arbitrary<Deal> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      title: textArb(),
      stageKey: fc.constantFrom('new', 'proposal', 'won', 'lost'),
      ownerId: optional(userIdArb),
      currency: currencyArb,
      lineItems: fc.array(lineItemArb, { maxLength: 3 }),
      amount: fc.integer({ min: 0, max: 10_000_000 }),
      probability: fc.integer({ min: 0, max: 100 }),
      expectedCloseDate: optional(isoDateArb),
      tags: tagsArb,
    })
    .map(({ base: b, currency, lineItems, amount, stageKey, ...rest }) => {
      const total = lineItems.length ? lineItems.reduce((s, l) => s + l.total, 0) : amount;
      const status = stageKey === 'won' ? 'won' : stageKey === 'lost' ? 'lost' : 'open';
      const probability = status === 'won' ? 100 : status === 'lost' ? 0 : rest.probability;
      return strip({
        ...b,
        ...rest,
        probability,
        stageKey,
        status,
        pipelineId: options.pipelineId ?? 'pl_main',
        value: { amount: total, currency },
        weightedValue: { amount: weightedAmount(total, probability), currency },
        lineItems,
        probabilityManual: false,
        closedAt: status === 'open' ? undefined : b.updatedAt,
        lostReason: status === 'lost' ? 'price' : undefined,
        stageEnteredAt: b.createdAt,
        lastActivityAt: b.updatedAt,
        postponeCount: 0,
        stagePostponeCount: 0,
        custom: {},
      }) as Deal;
    });
}

const stageArb = (key: string, kind: Stage['kind']): fc.Arbitrary<Stage> =>
  fc.record({ name: textArb(30), probability: fc.integer({ min: 0, max: 100 }), rottenDays: optional(fc.integer({ min: 1, max: 90 })) }).map((s) =>
    strip({
      key,
      kind,
      name: s.name,
      probability: kind === 'won' ? 100 : kind === 'lost' ? 0 : s.probability,
      rottenDays: s.rottenDays,
      entryRules: [],
      exitRules: [],
      taskTemplates: [],
    }),
  );

/** A valid pipeline with 1–6 open stages plus `won` and `lost`. */
export function pipelineArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<Pipeline> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      name: textArb(40),
      open: fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => stageArb(`s${i + 1}`, 'open')))),
      won: stageArb('won', 'won'),
      lost: stageArb('lost', 'lost'),
    })
    .map(({ base: b, name, open, won, lost }) => ({
      ...b,
      name,
      stages: [...open, won, lost],
      settings: { allowSkip: true, allowBackward: true, strictNextStep: false, lostReasons: [{ key: 'other', label: 'Other', requiresComment: true }] },
      archived: false,
    }));
}

/** A valid task record. */
export function taskArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<Task> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      subject: textArb(),
      type: fc.constantFrom('call', 'meeting', 'email', 'todo'),
      status: fc.constantFrom('open', 'done', 'cancelled'),
      dueAt: optional(timestampArb),
      ownerId: optional(userIdArb),
      priority: fc.constantFrom('low', 'normal', 'high', 'urgent'),
      dealId: optional(idArb),
    })
    .map(({ base: b, ...rest }) => strip({ ...b, ...rest, allDay: false, postponeCount: 0, reminders: [], required: false }) as Task);
}

/** A valid activity record. */
export function activityArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<Activity> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      kind: fc.constantFrom('call', 'email', 'meeting', 'message', 'note'),
      direction: optional(fc.constantFrom('inbound', 'outbound')),
      subject: optional(textArb()),
      occurredAt: timestampArb,
      ownerId: optional(userIdArb),
      dealId: optional(idArb),
      contactId: optional(idArb),
    })
    .map(({ base: b, ...rest }) => strip({ ...b, ...rest, participants: [] }) as Activity);
}

/** A valid event-log entry. */
export function eventArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<EventLogEntry> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      type: fc.constantFrom('deal.created', 'deal.updated', 'lead.created', 'activity.logged'),
      subjectId: idArb,
      extraRefs: fc.uniqueArray(fc.constantFrom('contact:c1', 'contact:c2', 'company:k1', 'lead:l1'), { maxLength: 3 }),
      actorId: optional(userIdArb),
    })
    .map(({ base: b, type, subjectId, extraRefs, actorId }) =>
      strip({
        ...b,
        version: 1,
        type,
        at: b.createdAt,
        actorId,
        subjectType: type.split('.')[0]!,
        subjectId,
        refs: [`${type.split('.')[0]}:${subjectId}`, ...extraRefs],
        data: {},
      }),
    );
}

/** A valid stage visit. */
export function stageVisitArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<StageVisit> {
  return fc
    .record({ base: base(options.tenantId ?? 't1'), dealId: idArb, stageKey: fc.constantFrom('new', 'proposal'), duration: optional(fc.integer({ min: 0, max: 90 * 86_400_000 })) })
    .map(({ base: b, dealId, stageKey, duration }) =>
      strip({
        ...b,
        dealId,
        pipelineId: 'pl_main',
        stageKey,
        enteredAt: b.createdAt,
        exitedAt: duration === undefined ? undefined : new Date(Date.parse(b.createdAt) + duration).toISOString(),
        exitKind: duration === undefined ? undefined : ('advanced' as const),
        durationMs: duration,
        postponeCount: 0,
      }),
    );
}

/** A valid custom-field definition. */
export function customFieldArb(options: RecordArbitraryOptions = {}): fc.Arbitrary<CustomFieldDefinition> {
  return fc
    .record({
      base: base(options.tenantId ?? 't1'),
      entity: fc.constantFrom('lead', 'contact', 'company', 'deal'),
      key: fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,20}$/),
      label: textArb(40),
      type: fc.constantFrom('text', 'number', 'boolean', 'date', 'select', 'multiselect', 'money'),
    })
    .map(({ base: b, type, ...rest }) =>
      strip({
        ...b,
        ...rest,
        type,
        options: type === 'select' || type === 'multiselect' ? [{ value: 'a' }, { value: 'b' }] : undefined,
        archived: false,
      }) as CustomFieldDefinition,
    );
}

/** Arbitraries for every record type, by entity name. */
export const arbitraries = {
  lead: leadArb,
  contact: contactArb,
  company: companyArb,
  deal: dealArb,
  pipeline: pipelineArb,
  task: taskArb,
  activity: activityArb,
  event: eventArb,
  stageVisit: stageVisitArb,
  customField: customFieldArb,
};
