import { createCrm, isCrmError } from '@crmkit/core';
import { createFakeClock } from '@crmkit/core/testing';
import { timeline } from '@crmkit/core/timeline';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import { describe, expect, it } from 'vitest';
import type { IdbTestEnv } from './env.js';

/** The whole stack on IndexedDB: lead → convert → deal, board, timeline, and the data after a restart. */
export function smokeTests(env: IdbTestEnv): void {
  describe(`crm on indexeddb (${env.label})`, () => {
    it('creates a lead, converts it to contact, company and deal, and keeps everything across a restart', async () => {
      const options = env.options();
      const clock = createFakeClock();
      const crm = await createCrm({ storage: createIndexedDbStorage(options), tenantId: 'acme', actor: { userId: 'u1' }, clock, random: { seed: 7 }, features: [timeline()] });
      const pipeline = await crm.pipelines.create({
        name: 'Sales',
        stages: [
          { key: 'new', name: 'New' },
          { key: 'proposal', name: 'Proposal' },
          { key: 'won', name: 'Won', kind: 'won' },
          { key: 'lost', name: 'Lost', kind: 'lost' },
        ],
      });
      const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@analytical.example', companyName: 'Analytical Engines' });
      const converted = await crm.leads.convert(lead.id, { deal: { title: 'Difference engine', pipelineId: pipeline.id, value: { amount: 120_000, currency: 'EUR' } } });
      expect(converted.contactCreated).toBe(true);
      expect(converted.companyCreated).toBe(true);
      const dealId = converted.deal!.id;
      expect(await crm.deals.get(dealId)).toMatchObject({ title: 'Difference engine', stageKey: 'new', contactId: converted.contact.id, companyId: converted.company!.id });
      const board = await crm.deals.board(pipeline.id);
      expect(board.columns.map((c) => [c.stage.key, c.count, c.deals.map((d) => d.id)])).toEqual([['new', 1, [dealId]], ['proposal', 0, []]]);
      expect(board.columns[0]!.totals).toEqual([{ currency: 'EUR', amount: 120_000, weighted: expect.any(Number) }]);
      const history = await crm.timeline({ type: 'contact', id: converted.contact.id });
      expect(history.items.map((e) => e.type)).toContain('lead.converted');
      const stale = await crm.leads.convert(lead.id).catch((e: unknown) => e);
      expect(isCrmError(stale)).toBe(true);
      await crm.close();

      const again = await createCrm({ storage: createIndexedDbStorage(options), tenantId: 'acme', clock });
      try {
        expect((await again.deals.get(dealId)).title).toBe('Difference engine');
        expect((await again.leads.get(lead.id)).status).toBe('converted');
        expect((await again.deals.list({ where: { op: 'eq', field: 'contactId', value: converted.contact.id } })).items.map((d) => d.id)).toEqual([dealId]);
      } finally {
        await again.close();
      }
    });
  });
}
