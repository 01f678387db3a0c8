import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { SAMPLE_REQUESTS } from '../src/catalog.js';
import { ensurePipeline, PIPELINE_ID, processOrderRequest } from '../src/shop-flow.js';
import { renderBoard } from '../src/summary.js';

describe('e-shop example', () => {
  it('turns order requests into qualified, converted deals with line items and a logged call', async () => {
    const { crm } = await createTestCrm();
    await ensurePipeline(crm);
    await ensurePipeline(crm); // re-runs find the pipeline
    const deals = [];
    for (const request of SAMPLE_REQUESTS) deals.push(await processOrderRequest(crm, request, 'anna'));
    expect(deals.map((d) => d.value.amount)).toEqual([12 * 249_00 + 12 * 689_00 + 120_00, 3 * 39_90, 4 * 249_00]);
    expect(deals.every((d) => d.ownerId === 'anna' && d.stageKey === 'request')).toBe(true);
    // Ada and Charles work at the same company: one company, matched by e-mail domain.
    expect(deals[0]!.companyId).toBeDefined();
    expect(deals[2]!.companyId).toBe(deals[0]!.companyId);
    expect((await crm.companies.list()).items).toHaveLength(1);
    const calls = await crm.activities.list({ where: where.eq('kind', 'call') });
    expect(calls.items).toHaveLength(3);
    const table = renderBoard(await crm.deals.board(PIPELINE_ID));
    expect(table.split('\n')[2]).toMatch(/^Quote requested\s+3\s+€12,491\.70\s+€2,498\.34$/);
  });

  it('links a returning customer to their existing contact instead of duplicating it', async () => {
    const { crm } = await createTestCrm();
    await ensurePipeline(crm);
    const first = await processOrderRequest(crm, SAMPLE_REQUESTS[1]!, 'anna');
    const again = await processOrderRequest(crm, { ...SAMPLE_REQUESTS[1]!, customer: { ...SAMPLE_REQUESTS[1]!.customer, email: 'gracehopper@gmail.com' } }, 'anna');
    expect(again.contactId).toBe(first.contactId);
    expect((await crm.contacts.list()).items).toHaveLength(1);
  });
});
