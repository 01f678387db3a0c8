import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';
import { text } from '../imports/export-text.js';
import { expectCrmError, issuePaths } from '../helpers.js';

// Review 16g: a probability was a percent (33) in one path and a fraction (0.5) in another. crmkit's one scale is the
// percent (0–100, docs/funnel.md); a value between 0 and 1 reads as a fraction and is refused wherever a probability is given.
const FRACTION = /percent \(0-100\), not a fraction/;

describe('probability is a percent, 0–100, on every path', () => {
  it('pipeline stages: create, addStage and updateStage refuse a fraction with VALIDATION naming the field', async () => {
    const { crm } = await createTestCrm();
    const created = await expectCrmError(crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', probability: 10 }, { key: 'b', name: 'B', probability: 0.5 }] }), 'VALIDATION');
    expect(issuePaths(created)).toEqual(['stages.1.probability']);
    expect(created.message).toMatch(FRACTION);
    const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', probability: 1 }, { key: 'b', name: 'B', probability: 33.5 }] });
    expect(pipeline.stages.map((s) => s.probability)).toEqual([1, 33.5, 100, 0]);
    expect(issuePaths(await expectCrmError(crm.pipelines.addStage(pipeline.id, { stage: { key: 'c', name: 'C', probability: 0.9 } }), 'VALIDATION'))).toEqual(['stage.probability']);
    expect(issuePaths(await expectCrmError(crm.pipelines.updateStage(pipeline.id, 'a', { probability: 0.33 }), 'VALIDATION'))).toEqual(['probability']);
    expect((await crm.pipelines.get(pipeline.id)).version).toBe(pipeline.version);
  });

  it('a deal\'s and a lead\'s own probability: create, update and upsert refuse a fraction, nothing written', async () => {
    const { crm } = await createTestCrm();
    await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', probability: 20 }] });
    for (const call of [
      () => crm.deals.create({ title: 'D', value: { amount: 1000, currency: 'EUR' }, probability: 0.5 }),
      () => crm.deals.upsertByExternalRef('shop', '1', { title: 'D', probability: 0.25 }),
      () => crm.leads.create({ name: 'L', probability: 0.35 }),
    ]) {
      const error = await expectCrmError(call(), 'VALIDATION');
      expect(issuePaths(error)).toEqual(['probability']);
      expect(error.message).toMatch(FRACTION);
    }
    const deal = await crm.deals.create({ title: 'D', value: { amount: 1000, currency: 'EUR' }, probability: 50 });
    expect(issuePaths(await expectCrmError(crm.deals.update(deal.id, { probability: 0.4 }), 'VALIDATION'))).toEqual(['probability']);
    const lead = await crm.leads.create({ name: 'L', probability: 35 });
    expect(issuePaths(await expectCrmError(crm.leads.update(lead.id, { probability: 0.9 }), 'VALIDATION'))).toEqual(['probability']);
    // An automation that would set one is refused when defined, not when it runs.
    const rule = await expectCrmError(crm.automations.define({ name: 'r', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'updateFields', set: { probability: 0.5 } }] }), 'VALIDATION');
    expect(issuePaths(rule)).toEqual(['actions.0.set.probability']);
    expect(await crm.deals.get(deal.id)).toEqual(deal);
    expect(await crm.leads.get(lead.id)).toEqual(lead);
    expect((await crm.deals.list()).items).toHaveLength(1);
  });

  it('weighted amount = amount × probability / 100 for a stage\'s and a manual probability; 0 < p < 1 refused (property)', async () => {
    const { crm } = await createTestCrm();
    const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', probability: 40 }] });
    const percent = fc.oneof(fc.constant(0), fc.constant(1), fc.constant(100), fc.integer({ min: 100, max: 10_000 }).map((h) => h / 100));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1e9 }), percent, async (amount, probability) => {
        const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id, value: { amount, currency: 'EUR' }, probability });
        expect(deal.probability).toBe(probability);
        // Hundredths of a percent are exact: amount × (p × 100) / 10 000, rounded half-even.
        const exact = (BigInt(amount) * BigInt(Math.round(probability * 100))) * 2n;
        const floor = exact / 20_000n;
        const rest = exact % 20_000n;
        const expected = rest > 10_000n || (rest === 10_000n && floor % 2n === 1n) ? floor + 1n : floor;
        expect(deal.weightedValue).toEqual({ amount: Number(expected), currency: 'EUR' });
      }),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(fc.double({ min: Number.MIN_VALUE, max: 0.999_999, noNaN: true }), async (fraction) => {
        await expectCrmError(crm.deals.create({ title: 'D', pipelineId: pipeline.id, probability: fraction }), 'VALIDATION');
        await expectCrmError(crm.pipelines.updateStage(pipeline.id, 'a', { probability: fraction }), 'VALIDATION');
      }),
      { numRuns: 40 },
    );
    const stageDeal = await crm.deals.create({ title: 'S', pipelineId: pipeline.id, value: { amount: 12_345, currency: 'EUR' } });
    expect(stageDeal).toMatchObject({ probability: 40, probabilityManual: false, weightedValue: { amount: 4938, currency: 'EUR' } });
  });

  it('the forecast\'s weighted amount is the sum of amount × probability / 100', async () => {
    const { crm } = await createTestCrm();
    const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', probability: 25 }] });
    await crm.deals.create({ title: 'A', pipelineId: pipeline.id, value: { amount: 100_000, currency: 'EUR' }, expectedCloseDate: '2026-04-10' });
    await crm.deals.create({ title: 'B', pipelineId: pipeline.id, value: { amount: 50_000, currency: 'EUR' }, probability: 50, expectedCloseDate: '2026-04-20' });
    const forecast = await crm.reports.forecast({ pipelineId: pipeline.id, by: 'month' });
    // 1000.00 × 25 % + 500.00 × 50 % = 500.00.
    expect(forecast.months).toMatchObject([{ month: '2026-04', byCurrency: [{ currency: 'EUR', deals: 2, amount: 150_000, weighted: 50_000 }] }]);
    expect(forecast.rows).toEqual([{ month: '2026-04', currency: 'EUR', deals: 2, amount: '1500.00', weighted: '500.00' }]);
  });

  it('import: a probability column in percent is read as is; a fraction fails its row with the API\'s VALIDATION issue; the export writes percent back', async () => {
    const { crm } = await createTestCrm();
    const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', probability: 20 }] });
    const mapping = { 'externalRefs.shop': 'Order', title: 'Title', pipelineId: { value: pipeline.id }, value: { column: 'Amount', as: 'money' as const, currency: 'EUR' }, probability: { column: 'Probability', as: 'number' as const } };
    const report = await crm.import.run({ entity: 'deal', mapping, csv: csvSource('Order,Title,Amount,Probability\r\n1,A,1000.00,35\r\n2,B,1000.00,0.35\r\n3,C,1000.00,\r\n') });
    expect(report.rows.map((r) => [r.outcome, r.issues?.map((i) => [i.path.join('.'), i.message.match(FRACTION) !== null])])).toEqual([['created', undefined], ['failed', [['probability', true]]], ['created', undefined]]);
    const a = await crm.deals.getByExternalRef('shop', '1');
    expect(a).toMatchObject({ probability: 35, probabilityManual: true, weightedValue: { amount: 35_000, currency: 'EUR' } });
    expect(await crm.deals.getByExternalRef('shop', '3')).toMatchObject({ probability: 20, probabilityManual: false, weightedValue: { amount: 20_000 } });
    const csv = await text(crm.export.run({ entity: 'deal', mapping: { 'externalRefs.shop': 'Order', probability: { column: 'Probability', as: 'number' } }, orderBy: [{ field: 'title' }] }));
    expect(csv).toBe('"Order","Probability"\r\n"1","35"\r\n"3","20"\r\n');
  });
});
