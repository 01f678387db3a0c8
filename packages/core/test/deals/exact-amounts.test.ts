import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError, lineTotal, weightedAmount } from '@crmkit/core';
import { crmWithPipeline, expectCrmError, expectUnchanged } from '../helpers.js';

/** Lines whose total (or whose sum) is past the exact integers: each line alone is valid input. */
const HUGE = { name: 'Container', quantity: 1_000_000, unitPrice: 9_000_000_000_000_000 };
const HALF = { name: 'Half', quantity: 1, unitPrice: 5_000_000_000_000_000 };

describe('amounts past the exact integers (fixerr: a RangeError escaped deals.create, deals.update and imports.deals)', () => {
  it('are VALIDATION at lineItems on every deal path, and write nothing', async () => {
    const t = await crmWithPipeline();
    const deal = await t.crm.deals.create({ title: 'D', lineItems: [{ name: 'x', quantity: 1, unitPrice: 100 }] });
    const before = t.storage.snapshot();
    for (const [name, call] of [
      ['deals.create', () => t.crm.deals.create({ title: 'D', lineItems: [HUGE] })],
      ['deals.create (sum)', () => t.crm.deals.create({ title: 'D', lineItems: [HALF, HALF] })],
      ['deals.update', () => t.crm.deals.update(deal.id, { lineItems: [HUGE] })],
      ['deals.upsertByExternalRef', () => t.crm.deals.upsertByExternalRef('shop', '1', { title: 'D', lineItems: [HUGE] })],
    ] as const) {
      const error = await expectCrmError(call(), 'VALIDATION');
      expect(error.details.issues.map((i) => i.path.join('.')), name).toEqual(['lineItems']);
      expect(error.message, name).toMatch(/exceeds the largest exact amount/);
    }
    const many = await expectCrmError(t.crm.imports.deals([{ title: 'ok' }, { title: 'D', lineItems: [HUGE] }]), 'VALIDATION');
    expect(many.details.issues.map((i) => i.path.join('.'))).toEqual(['1.lineItems']);
    expectUnchanged(t, before);
    // An import reports the row as failed (its job is recorded; no deal is).
    const report = await t.crm.import.run({ entity: 'deal', rows: [{ title: 'D', lineItems: [HUGE] }] });
    expect(report.rows[0]).toMatchObject({ outcome: 'failed', issues: [expect.objectContaining({ path: ['lineItems'] })] });
    expect(t.storage.snapshot().deal).toEqual(before.deal);
  });

  it('the exported money helpers refuse them with a CrmError too, never a RangeError (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 100 }), (quantity, unitPrice, probability) => {
        for (const compute of [() => lineTotal(quantity, unitPrice), () => weightedAmount(unitPrice * quantity, probability), () => lineTotal(quantity, unitPrice + 0.5)]) {
          try {
            expect(Number.isSafeInteger(compute())).toBe(true);
          } catch (error) {
            expect(isCrmError(error, 'VALIDATION'), String(error)).toBe(true);
          }
        }
      }),
    );
  });
});
