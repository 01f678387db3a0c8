import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { crmWithPipeline, expectCrmError, expectUnchanged, issuePaths } from '../helpers.js';

describe('deals', () => {
  it('creates a deal in the first pipeline and first open stage, priced from line items', async () => {
    const { crm, pipelineId } = await crmWithPipeline();
    const deal = await crm.deals.create({
      title: 'Office chairs',
      currency: 'EUR',
      lineItems: [
        { name: 'Chair', productRef: 'SKU-1', quantity: 40, unitPrice: 129_00, discountPercent: 10 },
        { name: 'Delivery', quantity: 1, unitPrice: 49_99 },
      ],
      expectedCloseDate: '2026-03-31',
    });
    expect(deal).toMatchObject({
      pipelineId, stageKey: 'new', status: 'open', ownerId: 'tester', probability: 10, probabilityManual: false,
      value: { amount: 4_644_00 + 49_99, currency: 'EUR' }, weightedValue: { amount: 46_940, currency: 'EUR' },
    });
    expect(deal.lineItems.map((l) => l.total)).toEqual([4_644_00, 49_99]);
    const visits = await crm.eventLog.list({ where: where.eq('type', 'deal.created') });
    expect(visits.items).toHaveLength(1);
  });

  it('validates money: line items and value exclude each other, currencies must agree', async () => {
    const t = await crmWithPipeline();
    const before = t.storage.snapshot();
    const error = await expectCrmError(
      t.crm.deals.create({ title: 'X', currency: 'EUR', value: { amount: 5, currency: 'USD' }, lineItems: [{ name: 'a', quantity: 1.0005, unitPrice: 1.5 }] }),
      'VALIDATION',
    );
    expect(issuePaths(error).sort()).toEqual(['lineItems.0.quantity', 'lineItems.0.unitPrice']);
    const mixed = await expectCrmError(t.crm.deals.create({ title: 'X', currency: 'EUR', value: { amount: 5, currency: 'USD' }, lineItems: [{ name: 'a', quantity: 1, unitPrice: 1 }] }), 'VALIDATION');
    expect(issuePaths(mixed).sort()).toEqual(['value', 'value.currency']);
    await expectCrmError(t.crm.deals.create({ title: 'X', stageKey: 'won' }), 'VALIDATION');
    await expectCrmError(t.crm.deals.create({ title: 'X', stageKey: 'nope' }), 'VALIDATION');
    expectUnchanged(t, before);
  });

  it('fails with RULE_VIOLATION when there is no pipeline yet', async () => {
    const { createTestCrm } = await import('@crmkit/core/testing');
    const { crm } = await createTestCrm();
    const error = await expectCrmError(crm.deals.create({ title: 'X' }), 'RULE_VIOLATION');
    expect(error.details.violations[0]!.rule).toBe('pipeline.none');
  });

  it('keeps a manual probability until cleared, and re-prices on line item changes', async () => {
    const { crm } = await crmWithPipeline();
    const deal = await crm.deals.create({ title: 'P', value: { amount: 1000, currency: 'USD' } });
    const manual = await crm.deals.update(deal.id, { probability: 25 });
    expect(manual).toMatchObject({ probability: 25, probabilityManual: true, weightedValue: { amount: 250 } });
    const renamed = await crm.deals.update(deal.id, { title: 'P2' });
    expect(renamed.probability).toBe(25);
    const back = await crm.deals.update(deal.id, { probability: null });
    expect(back).toMatchObject({ probability: 10, probabilityManual: false, weightedValue: { amount: 100 } });
    const priced = await crm.deals.update(deal.id, { lineItems: [{ name: 'Item', quantity: 3, unitPrice: 333 }] });
    expect(priced.value).toEqual({ amount: 999, currency: 'USD' });
    await expectCrmError(crm.deals.update(deal.id, { value: { amount: 1, currency: 'USD' } }), 'VALIDATION');
    const cleared = await crm.deals.update(deal.id, { lineItems: [], value: { amount: 7, currency: 'USD' } });
    expect(cleared.value.amount).toBe(7);
    const events = await crm.timeline({ type: 'deal', id: deal.id });
    expect(events.items.filter((e) => e.type === 'deal.updated')).toHaveLength(5);
  });

  it('lists by stage, amount and owner, and aggregates by stage in storage', async () => {
    const { crm, pipelineId } = await crmWithPipeline();
    await crm.deals.create({ title: 'a', value: { amount: 100, currency: 'EUR' } });
    await crm.deals.create({ title: 'b', value: { amount: 300, currency: 'EUR' }, stageKey: 'proposal', ownerId: 'u2' });
    await crm.deals.create({ title: 'c', value: { amount: 500, currency: 'EUR' }, stageKey: 'proposal' });
    const big = await crm.deals.list({ where: where.and(where.eq('stageKey', 'proposal'), where.gte('value.amount', 300)), orderBy: [{ field: 'value.amount', direction: 'desc' }] });
    expect(big.items.map((d) => d.title)).toEqual(['c', 'b']);
    const rows = await crm.deals.aggregate({ where: where.eq('pipelineId', pipelineId), groupBy: ['stageKey'], metrics: { n: { fn: 'count' }, total: { fn: 'sum', field: 'value.amount' }, weighted: { fn: 'sum', field: 'weightedValue.amount' } } });
    expect(rows).toEqual([
      { group: { stageKey: 'new' }, values: { n: 1, total: 100, weighted: 10 } },
      { group: { stageKey: 'proposal' }, values: { n: 2, total: 800, weighted: 480 } },
    ]);
    await expectCrmError(crm.deals.aggregate({ metrics: { x: { fn: 'sum', field: 'title' } } }), 'VALIDATION');
  });

  it('reads a board: pages per stage, counts and per-currency totals of all matching deals', async () => {
    const { crm, pipelineId, clock } = await crmWithPipeline();
    for (let i = 0; i < 5; i++) {
      await crm.deals.create({ title: `n${i}`, value: { amount: 100, currency: i === 4 ? 'USD' : 'EUR' } });
      clock.advance(1000);
    }
    await crm.deals.create({ title: 'p', value: { amount: 1000, currency: 'EUR' }, stageKey: 'proposal', ownerId: 'u9' });
    const board = await crm.deals.board(pipelineId, { limitPerStage: 2 });
    expect(board.columns.map((c) => [c.stage.key, c.count, c.deals.map((d) => d.title), !!c.nextCursor])).toEqual([
      ['new', 5, ['n0', 'n1'], true],
      ['proposal', 1, ['p'], false],
    ]);
    expect(board.columns[0]!.totals).toEqual([{ currency: 'EUR', amount: 400, weighted: 40 }, { currency: 'USD', amount: 100, weighted: 10 }]);
    const more = await crm.deals.board(pipelineId, { limitPerStage: 2, stages: ['new'], cursors: { new: board.columns[0]!.nextCursor! } });
    expect(more.columns[0]!.deals.map((d) => d.title)).toEqual(['n2', 'n3']);
    const mine = await crm.deals.board(pipelineId, { where: where.eq('ownerId', 'u9'), includeClosed: true });
    expect(mine.columns.map((c) => [c.stage.key, c.count])).toEqual([['new', 0], ['proposal', 1], ['won', 0], ['lost', 0]]);
    await expectCrmError(crm.deals.board(pipelineId, { cursors: { won: 'x' } }), 'VALIDATION');
  });

  it('imports many deals in one transaction, all or nothing, reporting [index, path]', async () => {
    const t = await crmWithPipeline();
    const contact = await t.crm.contacts.create({ name: 'Buyer' });
    const progress: number[] = [];
    const deals = await t.crm.imports.deals(
      Array.from({ length: 2500 }, (_, i) => ({ title: `Deal ${i}`, contactId: contact.id, value: { amount: i, currency: 'EUR' } })),
      { onProgress: (done) => progress.push(done) },
    );
    expect(deals).toHaveLength(2500);
    expect(progress).toEqual([1000, 2000, 2500]);
    const count = await t.crm.deals.aggregate({ metrics: { n: { fn: 'count' } } });
    expect(count[0]!.values.n).toBe(2500);
    const before = t.storage.snapshot();
    const bad = await expectCrmError(t.crm.imports.deals([{ title: 'ok' }, { title: '' }, { title: 'x', contactId: 'ctc_nope' }]), 'VALIDATION');
    expect(issuePaths(bad)).toEqual(['1.title']);
    const missing = await expectCrmError(t.crm.imports.deals([{ title: 'ok' }, { title: 'x', contactId: 'ctc_nope' }]), 'VALIDATION');
    expect(issuePaths(missing)).toEqual(['1.contactId']);
    expectUnchanged(t, before);
  });

  it('removes a deal, closing its open stage visit and keeping its history', async () => {
    const { crm } = await crmWithPipeline();
    const deal = await crm.deals.create({ title: 'Temp' });
    await expectCrmError(crm.deals.remove(deal.id, { version: 7 }), 'CONFLICT');
    await crm.deals.remove(deal.id);
    await expectCrmError(crm.deals.get(deal.id), 'NOT_FOUND');
    const timeline = await crm.timeline({ type: 'deal', id: deal.id });
    expect(timeline.items.map((e) => e.type)).toEqual(['deal.removed', 'deal.created']);
  });
});
