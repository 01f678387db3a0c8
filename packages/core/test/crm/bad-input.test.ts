import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { BAD_INPUT_TARGETS, createTestCrm, poisonFor, seedBadInputData, type BadInputIds, type TestCrm } from '@crmkit/core/testing';

let t: TestCrm;
let ids: BadInputIds;

type Call = (crm: TestCrm['crm'], input: unknown) => Promise<unknown>;

/** The shared targets (every public method that takes input), bound to this file's records. */
const targets = () => BAD_INPUT_TARGETS.map((target) => ({ ...target, call: ((c, x) => target.call(c, x, ids)) as Call }));

beforeAll(async () => {
  t = await createTestCrm();
  ids = await seedBadInputData(t.crm);
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
          expect(error.details.issues.some((i) => i.path[0] === field || (target.name === 'imports.deals' && i.path[1] === field) || (target.name === 'imports.deals(options)' && i.path[1] === field))).toBe(true);
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
