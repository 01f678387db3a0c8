import { describe, expect, it } from 'vitest';
import type { CrmEvent } from '../../events/event-map.js';
import type { CrmSubject } from './crm-harness.js';

/** Walks every page of a timeline. */
async function wholeTimeline(s: CrmSubject, ref: { type: 'company' | 'contact'; id: string }, types: readonly CrmEvent['type'][]): Promise<CrmEvent[]> {
  const events: CrmEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await s.crm.timeline(ref, { types: [...types], limit: 1000, ...(cursor ? { cursor } : {}) });
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return events;
}

/** No public result is cut at an internal limit: each path is proven with more records than the limit. */
export function crmCompletenessTests(open: () => Promise<CrmSubject>): void {
  describe('no silent caps', () => {
    it('a company timeline reaches every one of 1 500 deals linked to it after they were created', async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
      const company = await s.crm.companies.create({ name: 'Big Account' });
      const contact = await s.crm.contacts.create({ name: 'Buyer' });
      // Created unlinked: their `deal.created` events carry no company ref, so only the link brings them.
      const deals = await s.crm.imports.deals(Array.from({ length: 1_500 }, (_, i) => ({ title: `Deal ${i}` })));
      for (const deal of deals) await s.crm.deals.update(deal.id, { companyId: company.id, contactId: contact.id });
      const created = await wholeTimeline(s, { type: 'company', id: company.id }, ['deal.created']);
      expect(created).toHaveLength(1_500);
      expect(new Set(created.map((e) => e.subjectId))).toEqual(new Set(deals.map((d) => d.id)));
      // The same through a contact (deals linked later bring their whole history).
      expect(await wholeTimeline(s, { type: 'contact', id: contact.id }, ['deal.created'])).toHaveLength(1_500);
    });

    it('a forecast lists every deal it could not convert, beyond a thousand', async () => {
      const s = await open();
      const pipeline = await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
      const deals = await s.crm.imports.deals(Array.from({ length: 1_100 }, (_, i) => ({ title: `Deal ${i}`, value: { amount: 100, currency: 'USD' }, expectedCloseDate: '2026-03-15' })));
      const report = await s.crm.reports.forecast({ pipelineId: pipeline.id, by: 'month', convert: { base: 'EUR', rates: { GBP: 1.2 } } });
      const [unconverted] = report.months.find((m) => m.month === '2026-03')!.unconverted;
      expect(unconverted!.dealIds).toHaveLength(1_100);
      expect([...unconverted!.dealIds].sort()).toEqual(deals.map((d) => d.id).sort());
    });
  });
}
