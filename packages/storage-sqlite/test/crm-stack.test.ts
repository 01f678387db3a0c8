import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, isCrmError, silentLogger, where, type CrmEvent } from '@crmkit/core';
import { customFields } from '@crmkit/core/custom-fields';
import { imports } from '@crmkit/core/imports';
import { createFakeClock } from '@crmkit/core/testing';
import { timeline } from '@crmkit/core/timeline';
import { endSubjects, subjects } from './support/subjects.js';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
afterAll(() => endSubjects());

for (const subject of subjects()) {
  describe(`the full crm on ${subject.name}`, () => {
    it('runs a lead → qualify → convert → deal flow, with board, lists, aggregates, timeline and conflicts', async () => {
      const { adapter, dispose } = await subject.make();
      cleanups.push(dispose);
      const clock = createFakeClock('2026-03-02T09:00:00.000Z');
      const crm = await createCrm({ storage: adapter, tenantId: 'acme', actor: { userId: 'u1' }, clock, logger: silentLogger, random: { seed: 42 }, features: [customFields(), timeline()] });
      cleanups.push(() => crm.close());
      const seen: CrmEvent[] = [];
      crm.on('*', (e) => void seen.push(e));

      const pipeline = await crm.pipelines.create({
        name: 'Sales',
        stages: [
          { key: 'new', name: 'New', probability: 10 },
          { key: 'proposal', name: 'Proposal', probability: 60 },
        ],
      });
      await crm.customFields.define({ entity: 'deal', key: 'seats', label: 'Seats', type: 'number' });
      await crm.customFields.define({ entity: 'deal', key: 'modules', label: 'Modules', type: 'multiselect', options: [{ value: 'crm' }, { value: 'erp' }] });

      const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@engines.example', companyName: 'Analytical Engines', source: 'web-form', tags: ['inbound'] });
      clock.advance(60_000);
      await crm.leads.qualify(lead.id);
      const converted = await crm.leads.convert(lead.id, { deal: { title: '40 chairs', value: { amount: 516_000, currency: 'EUR' }, custom: { seats: 40, modules: ['crm'] } } });
      expect(converted.lead.status).toBe('converted');
      expect(converted.contact.name).toBe('Ada Lovelace');
      expect(converted.company?.name).toBe('Analytical Engines');
      const deal = converted.deal!;
      expect(deal).toMatchObject({ pipelineId: pipeline.id, stageKey: 'new', value: { amount: 516_000, currency: 'EUR' }, custom: { seats: 40, modules: ['crm'] } });

      for (let i = 0; i < 4; i++) {
        clock.advance(1000);
        await crm.deals.create({ title: `Deal ${i}`, value: { amount: 1000 * (i + 1), currency: i % 2 ? 'USD' : 'EUR' }, stageKey: i % 2 ? 'proposal' : 'new', custom: { seats: i } });
      }

      // Reads come back exactly as written.
      expect(await crm.deals.get(deal.id)).toEqual(deal);
      expect(await crm.contacts.get(converted.contact.id)).toEqual(converted.contact);

      // Lists with custom-field filters and cursors.
      const bySeats = await crm.deals.list({ where: where.gte('custom.seats', 2), orderBy: [{ field: 'custom.seats', direction: 'desc' }] });
      expect(bySeats.items.map((d) => d.custom.seats)).toEqual([40, 3, 2]);
      const withCrm = await crm.deals.list({ where: where.containsAny('custom.modules', ['crm', 'x']) });
      expect(withCrm.items.map((d) => d.id)).toEqual([deal.id]);
      const page1 = await crm.deals.list({ orderBy: [{ field: 'value.amount' }], limit: 2 });
      const page2 = await crm.deals.list({ orderBy: [{ field: 'value.amount' }], limit: 2, cursor: page1.nextCursor });
      const page3 = await crm.deals.list({ orderBy: [{ field: 'value.amount' }], limit: 2, cursor: page2.nextCursor });
      expect([...page1.items, ...page2.items, ...page3.items].map((d) => d.value.amount)).toEqual([1000, 2000, 3000, 4000, 516_000]);
      expect(page3.nextCursor).toBeUndefined();

      // The board: pages per stage plus per-stage totals by currency.
      const board = await crm.deals.board(pipeline.id, { limitPerStage: 2 });
      expect(board.columns.map((c) => [c.stage.key, c.count, c.deals.length, Boolean(c.nextCursor)])).toEqual([
        ['new', 3, 2, true],
        ['proposal', 2, 2, false],
      ]);
      expect(board.columns[0]!.totals).toEqual([{ currency: 'EUR', amount: 516_000 + 1000 + 3000, weighted: 51_600 + 100 + 300 }]);
      const more = await crm.deals.board(pipeline.id, { limitPerStage: 2, cursors: { new: board.columns[0]!.nextCursor! } });
      expect(more.columns[0]!.deals.length).toBe(1);

      const byStage = await crm.deals.aggregate({ groupBy: ['stageKey'], metrics: { n: { fn: 'count' }, total: { fn: 'sum', field: 'value.amount' }, seats: { fn: 'max', field: 'custom.seats' } } });
      expect(byStage).toEqual([
        { group: { stageKey: 'new' }, values: { n: 3, total: 520_000, seats: 40 } },
        { group: { stageKey: 'proposal' }, values: { n: 2, total: 6000, seats: 3 } },
      ]);

      // Optimistic concurrency through the services.
      const updated = await crm.deals.update(deal.id, { title: '42 chairs', version: deal.version });
      expect(updated.version).toBe(deal.version + 1);
      const stale = await crm.deals.update(deal.id, { title: 'stale', version: deal.version }).catch((e: unknown) => e);
      expect(isCrmError(stale, 'CONFLICT') && stale.details).toMatchObject({ expectedVersion: deal.version, actualVersion: deal.version + 1 });

      // The event log and the timeline (refs side table), newest first.
      const history = await crm.timeline({ type: 'contact', id: converted.contact.id });
      expect(history.items.map((e) => e.type)).toEqual(expect.arrayContaining(['lead.created', 'lead.qualified', 'lead.converted', 'deal.created', 'deal.updated']));
      const ats = history.items.map((e) => e.at);
      expect([...ats].sort().reverse()).toEqual(ats);
      const log = await crm.eventLog.list({ limit: 1000 });
      expect(log.items.length).toBe(seen.length);

      // Removal keeps history.
      await crm.deals.remove(updated.id);
      const gone = await crm.deals.get(updated.id).catch((e: unknown) => e);
      expect(isCrmError(gone, 'NOT_FOUND')).toBe(true);
      const dealTimeline = await crm.timeline({ type: 'deal', id: updated.id });
      expect(dealTimeline.items[0]!.type).toBe('deal.removed');
    });

    it('creates many deals in one transaction and reads them back by board and aggregate', async () => {
      const { adapter, dispose } = await subject.make();
      cleanups.push(dispose);
      const crm = await createCrm({ storage: adapter, tenantId: 'bulk', logger: silentLogger, random: { seed: 1 }, features: [imports()] });
      cleanups.push(() => crm.close());
      const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }] });
      const inputs = Array.from({ length: 2500 }, (_, i) => ({ title: `Deal ${i}`, stageKey: i % 3 ? 'a' : 'b', value: { amount: i, currency: 'EUR' }, tags: i % 10 ? [] : ['ten'] }));
      const deals = await crm.imports.deals(inputs);
      expect(deals.length).toBe(2500);
      const board = await crm.deals.board(pipeline.id, { limitPerStage: 5 });
      expect(board.columns.map((c) => c.count)).toEqual([inputs.filter((d) => d.stageKey === 'a').length, inputs.filter((d) => d.stageKey === 'b').length]);
      const tagged = await crm.deals.aggregate({ where: where.containsAny('tags', ['ten']), metrics: { n: { fn: 'count' }, sum: { fn: 'sum', field: 'value.amount' } } });
      expect(tagged).toEqual([{ group: {}, values: { n: 250, sum: inputs.filter((d) => d.tags.length).reduce((s, d) => s + d.value.amount, 0) } }]);
      // A failing import stores nothing.
      const before = await crm.deals.aggregate({ metrics: { n: { fn: 'count' } } });
      const bad = await crm.imports.deals([{ title: 'ok' }, { title: 'dup', id: deals[0]!.id }]).catch((e: unknown) => e);
      expect(isCrmError(bad)).toBe(true);
      expect(await crm.deals.aggregate({ metrics: { n: { fn: 'count' } } })).toEqual(before);
    });
  });
}
