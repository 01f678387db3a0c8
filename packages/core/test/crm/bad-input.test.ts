import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm, type TestCrm } from '@crmkit/core/testing';

/** Values wrong for every field, whatever its type. */
const ALWAYS_BAD: readonly unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, () => 1, Symbol('s'), 10n];

/** Values that are wrong for a field, given a valid value of it (text fields accept any short text, etc.). */
function poisonFor(valid: unknown): unknown[] {
  const objects = [[], {}, { nested: { deep: [1, 2, 3] } }, JSON.parse('{"__proto__": {"polluted": true}}'), new Date()];
  if (typeof valid === 'string') return [...ALWAYS_BAD, 'x'.repeat(100_001), 'with\u0000nul', 42, true, ...objects];
  if (typeof valid === 'number') return [...ALWAYS_BAD, -1.5, 2 ** 60, '7', true, ...objects];
  if (typeof valid === 'boolean') return [...ALWAYS_BAD, 'true', 1, ...objects];
  return [...ALWAYS_BAD, 'x'.repeat(100_001), 42, new Date()];
}

type Call = (crm: TestCrm['crm'], input: unknown) => Promise<unknown>;

interface Target {
  readonly name: string;
  readonly call: Call;
  /** A valid input: mutations of its fields must be rejected with VALIDATION naming the field. */
  readonly valid?: Record<string, unknown>;
}

let t: TestCrm;
let ids: { lead: string; contact: string; company: string; deal: string; pipeline: string };

const any = <T>(x: unknown) => x as T;

const targets = (): Target[] => [
  { name: 'leads.create', call: (c, x) => c.leads.create(any(x)), valid: { name: 'Ann', email: 'a@b.co', expectedValue: { amount: 1, currency: 'EUR' }, tags: ['x'] } },
  { name: 'leads.update', call: (c, x) => c.leads.update(ids.lead, any(x)), valid: { name: 'Ann', version: 1, country: 'DE' } },
  { name: 'leads.update(id)', call: (c, x) => c.leads.update(any(x), { name: 'x' }) },
  { name: 'leads.get', call: (c, x) => c.leads.get(any(x)) },
  { name: 'leads.list', call: (c, x) => c.leads.list(any(x)), valid: { limit: 5, where: { op: 'eq', field: 'status', value: 'new' } } },
  { name: 'leads.qualify', call: (c, x) => c.leads.qualify(ids.lead, any(x)), valid: { version: 1 } },
  { name: 'leads.disqualify', call: (c, x) => c.leads.disqualify(ids.lead, any(x)), valid: { reason: 'no', version: 1 } },
  { name: 'leads.convert', call: (c, x) => c.leads.convert(ids.lead, any(x)), valid: { createCompany: false, deal: { title: 'x' } } },
  { name: 'duplicates.find', call: (c, x) => c.duplicates.find(any(x)), valid: { email: 'a@b.co', name: 'x' } },
  { name: 'leads.remove', call: (c, x) => c.leads.remove(ids.lead, any(x)), valid: { version: 1 } },
  { name: 'contacts.create', call: (c, x) => c.contacts.create(any(x)), valid: { name: 'Bo', phone: '+1 555 0100', companyId: 'co_x' } },
  { name: 'contacts.update', call: (c, x) => c.contacts.update(ids.contact, any(x)), valid: { name: 'Bo', version: 1 } },
  { name: 'contacts.list', call: (c, x) => c.contacts.list(any(x)), valid: { limit: 2, orderBy: [{ field: 'name', direction: 'asc' }] } },
  { name: 'contacts.remove', call: (c, x) => c.contacts.remove(any(x)) },
  { name: 'companies.create', call: (c, x) => c.companies.create(any(x)), valid: { name: 'Co', domain: 'co.com' } },
  { name: 'companies.update', call: (c, x) => c.companies.update(ids.company, any(x)), valid: { name: 'Co', version: 1 } },
  { name: 'companies.get', call: (c, x) => c.companies.get(any(x)) },
  { name: 'deals.create', call: (c, x) => c.deals.create(any(x)), valid: { title: 'D', currency: 'EUR', lineItems: [{ name: 'l', quantity: 1, unitPrice: 1 }], expectedCloseDate: '2026-01-01', custom: { tier: 'gold' } } },
  { name: 'deals.update', call: (c, x) => c.deals.update(ids.deal, any(x)), valid: { title: 'D', probability: 50, version: 1 } },
  { name: 'deals.list', call: (c, x) => c.deals.list(any(x)), valid: { where: { op: 'gte', field: 'value.amount', value: 1 }, limit: 3 } },
  { name: 'deals.aggregate', call: (c, x) => c.deals.aggregate(any(x)), valid: { groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } } },
  { name: 'deals.board', call: (c, x) => c.deals.board(ids.pipeline, any(x)), valid: { limitPerStage: 5 } },
  { name: 'imports.deals', call: (c, x) => c.imports.deals(any([x])), valid: { title: 'D', value: { amount: 1, currency: 'EUR' } } },
  { name: 'deals.remove', call: (c, x) => c.deals.remove(ids.deal, any(x)), valid: { version: 1 } },
  { name: 'pipelines.create', call: (c, x) => c.pipelines.create(any(x)), valid: { name: 'P', stages: [{ key: 'a', name: 'A', probability: 10, rottenDays: 3 }], settings: { allowSkip: false } } },
  { name: 'pipelines.get', call: (c, x) => c.pipelines.get(any(x)) },
  { name: 'customFields.define', call: (c, x) => c.customFields.define(any(x)), valid: { entity: 'lead', key: 'size', label: 'Size', type: 'number' } },
  { name: 'customFields.update', call: (c, x) => c.customFields.update('deal', 'tier', any(x)), valid: { label: 'T', required: false } },
  { name: 'activities.log', call: (c, x) => c.activities.log(any(x)), valid: { kind: 'call', direction: 'outbound', occurredAt: '2026-01-01T10:00:00+02:00', durationMinutes: 5 } },
  { name: 'activities.list', call: (c, x) => c.activities.list(any(x)), valid: { limit: 1 } },
  { name: 'timeline', call: (c, x) => c.timeline(any(x)), valid: { type: 'deal', id: 'deal_x' } },
  { name: 'timeline options', call: (c, x) => c.timeline({ type: 'deal', id: ids.deal }, any(x)), valid: { limit: 3, types: ['deal.created'] } },
  { name: 'eventLog.list', call: (c, x) => c.eventLog.list(any(x)), valid: { limit: 3 } },
];

beforeAll(async () => {
  t = await createTestCrm();
  const pipeline = await t.crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
  await t.crm.customFields.define({ entity: 'deal', key: 'tier', label: 'Tier', type: 'text' });
  const company = await t.crm.companies.create({ id: 'co_x', name: 'Co' });
  const contact = await t.crm.contacts.create({ name: 'C' });
  const lead = await t.crm.leads.create({ name: 'L' });
  const deal = await t.crm.deals.create({ title: 'D' });
  ids = { lead: lead.id, contact: contact.id, company: company.id, deal: deal.id, pipeline: pipeline.id };
});

/** Calls a public method; it must return a promise (never throw synchronously). */
async function outcome(call: Call, input: unknown): Promise<unknown> {
  const promise = call(t.crm, input);
  expect(promise).toBeInstanceOf(Promise);
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('bad input never escapes as anything but CrmError, and writes nothing', () => {
  for (const target of targets()) {
    it(`${target.name}: arbitrary input`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true, maxDepth: 3 }), async (input) => {
          const before = t.storage.snapshot();
          const error = await outcome(target.call, input);
          if (error === undefined) return; // some arbitrary values are valid inputs (e.g. undefined options)
          if (!isCrmError(error)) throw error;
          expect(['VALIDATION', 'NOT_FOUND', 'RULE_VIOLATION', 'CONFLICT']).toContain(error.code);
          expect(t.storage.snapshot()).toEqual(before);
        }),
        { numRuns: 60 },
      );
    });

    const valid = target.valid;
    if (!valid) continue;
    it(`${target.name}: a poisoned field is reported with its path`, async () => {
      const fields = Object.keys(valid);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...fields).chain((f) => fc.tuple(fc.constant(f), fc.constantFrom(...poisonFor(valid[f])))), async ([field, poison]) => {
          const before = t.storage.snapshot();
          const input = { ...valid, [field]: poison };
          const error = await outcome(target.call, input);
          if (!isCrmError(error, 'VALIDATION')) throw new Error(`${target.name} accepted ${field} = ${String(poison).slice(0, 40)}: ${String(error)}`);
          expect(error.details.issues.some((i) => i.path[0] === field || (target.name === 'imports.deals' && i.path[1] === field))).toBe(true);
          expect(t.storage.snapshot()).toEqual(before);
        }),
        { numRuns: 80 },
      );
    });

    it(`${target.name}: unknown and __proto__ keys are rejected`, async () => {
      const before = t.storage.snapshot();
      for (const extra of [{ unexpected: 1 }, JSON.parse('{"__proto__": {"admin": true}}'), JSON.parse('{"constructor": {"prototype": {"x": 1}}}')]) {
        const error = await outcome(target.call, { ...valid, ...extra });
        expect(isCrmError(error, 'VALIDATION')).toBe(true);
      }
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
      expect(t.storage.snapshot()).toEqual(before);
    });
  }

  it('unknown custom fields and poisoned custom values are rejected on every customizable entity', async () => {
    const deal = await t.crm.deals.create({ title: 'target' }); // earlier arbitrary calls may have removed ids.deal
    const before = t.storage.snapshot();
    for (const custom of [{ ghost: 1 }, JSON.parse('{"__proto__": 1}'), { tier: Number.NaN }, { tier: 'x'.repeat(3000) }]) {
      for (const call of [
        () => t.crm.leads.create({ name: 'x', custom }),
        () => t.crm.contacts.create({ name: 'x', custom }),
        () => t.crm.companies.create({ name: 'x', custom }),
        () => t.crm.deals.create({ title: 'x', custom }),
        () => t.crm.deals.update(deal.id, { custom }),
      ]) {
        const error = await outcome(call, undefined);
        expect(isCrmError(error, 'VALIDATION') && error.details.issues[0]!.path[0]).toBe('custom');
      }
    }
    expect(t.storage.snapshot()).toEqual(before);
  });
});
