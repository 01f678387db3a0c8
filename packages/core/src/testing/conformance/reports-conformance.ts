import { afterEach, describe, expect, it } from 'vitest';
import type { StorageAdapter } from '../../storage/storage-adapter.js';
import { toCsv } from '../../domain/analytics/csv.js';
import type { ConformanceFactory, ConformanceSubject } from './harness.js';
import { buildReportsDataset } from '../reports/reports-dataset.js';
import { createCrm } from '../../crm/create-crm.js';
import { silentLogger } from '../../crm/logger.js';
import { reports } from '../../reports/reports-feature.js';

const DAY = 86_400_000;
const WINDOW = { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' };

/**
 * Registers the reports suite for an adapter: a hand-computed dataset must give exactly the
 * expected funnel, velocity, forecast, performance, customer and scoring figures — the same on
 * every adapter — plus the invariants (counts add up, conversions within 0–1).
 */
export function describeReportsConformance(name: string, factory: ConformanceFactory, options: { timeout?: number } = {}): void {
  let subjects: ConformanceSubject[] = [];
  const open = async (): Promise<StorageAdapter> => {
    const made = await factory();
    const subject = 'adapter' in made ? made : { adapter: made };
    subjects.push(subject);
    return subject.adapter;
  };

  describe(`reports: ${name}`, { timeout: options.timeout ?? 60_000 }, () => {
    afterEach(async () => {
      for (const s of subjects) {
        await s.adapter.close().catch(() => undefined);
        await s.dispose?.();
      }
      subjects = [];
    });

    it('funnel: entries, exits, conversion, eventual wins and time in stage per stage', async () => {
      const { anna, pipelineId } = await buildReportsDataset(await open());
      const report = await anna.reports.funnel({ pipelineId, ...WINDOW });
      const figures = report.stages.map(({ drill: _d, ...s }) => s);
      expect(figures).toEqual([
        { stageKey: 'new', name: 'New', kind: 'open', entered: 7, advanced: 5, lost: 1, movedBack: 0, otherExits: 0, inStage: 1, conversion: 5 / 7, cumulativeWon: 1 / 7, meanTimeMs: (7 * DAY) / 6, medianTimeMs: DAY },
        { stageKey: 'qualified', name: 'Qualified', kind: 'open', entered: 5, advanced: 2, lost: 1, movedBack: 1, otherExits: 0, inStage: 1, conversion: 2 / 5, cumulativeWon: 1 / 5, meanTimeMs: 1.5 * DAY, medianTimeMs: 1.5 * DAY },
        { stageKey: 'proposal', name: 'Proposal', kind: 'open', entered: 2, advanced: 1, lost: 0, movedBack: 0, otherExits: 0, inStage: 1, conversion: 1 / 2, cumulativeWon: 1 / 2, meanTimeMs: 2 * DAY, medianTimeMs: 2 * DAY },
        { stageKey: 'won', name: 'Won', kind: 'won', entered: 1, advanced: 0, lost: 0, movedBack: 0, otherExits: 0, inStage: 1, conversion: null, cumulativeWon: 1, meanTimeMs: null, medianTimeMs: null },
        { stageKey: 'lost', name: 'Lost', kind: 'lost', entered: 2, advanced: 0, lost: 0, movedBack: 0, otherExits: 0, inStage: 2, conversion: null, cumulativeWon: 0, meanTimeMs: null, medianTimeMs: null },
      ]);
      for (const s of report.stages) {
        expect(s.entered).toBe(s.advanced + s.lost + s.movedBack + s.otherExits + s.inStage);
        for (const r of [s.conversion, s.cumulativeWon]) if (r !== null) expect(r >= 0 && r <= 1).toBe(true);
      }
      const lostFromNew = await anna.reports.drill(report.stages[0]!.drill.lost);
      expect(lostFromNew.items.map((v) => (v as unknown as { dealId: string }).dealId)).toEqual(['deal_6']);
      const annaOnly = await anna.reports.funnel({ pipelineId, ...WINDOW, ownerId: 'anna' });
      expect(annaOnly.stages.map((s) => s.entered)).toEqual([3, 3, 2, 1, 1]);
      expect(report.rows[0]).toMatchObject({ stageKey: 'new', entered: 7 });
    });

    it('velocity: win rate, cycle, average won amount and velocity per currency', async () => {
      const { anna } = await buildReportsDataset(await open());
      const report = await anna.reports.velocity(WINDOW);
      expect(report.currencies.map(({ drill: _d, ...r }) => r)).toEqual([
        { currency: 'EUR', won: 1, lost: 2, winRate: 1 / 3, meanCycleDays: 5, averageWonAmount: 1000, openDeals: 2, velocityPerDay: 133 },
        { currency: 'USD', won: 0, lost: 0, winRate: null, meanCycleDays: null, averageWonAmount: null, openDeals: 1, velocityPerDay: null },
      ]);
      expect(report.winRate).toBe(1 / 3);
      expect(report.rows.map((r) => [r.currency, r.averageWonAmount, r.velocityPerDay])).toEqual([['EUR', '10.00', '1.33'], ['USD', null, null]]);
      const lost = await anna.reports.drill(report.currencies[0]!.drill.lost);
      expect(lost.items.map((d) => d.id)).toEqual(['deal_2', 'deal_6']);
    });

    it('forecast: by expected close month, per currency, converted or listed', async () => {
      const { anna, pipelineId } = await buildReportsDataset(await open());
      const plain = await anna.reports.forecast({ pipelineId, by: 'month' });
      expect(plain.months.map(({ drill: _d, ...m }) => m)).toEqual([
        { month: null, byCurrency: [{ currency: 'EUR', deals: 1, amount: 500, weighted: 50 }, { currency: 'USD', deals: 1, amount: 3000, weighted: 1200 }], unconverted: [] },
        { month: '2026-02', byCurrency: [{ currency: 'EUR', deals: 1, amount: 1500, weighted: 1050 }], unconverted: [] },
      ]);
      const converted = await anna.reports.forecast({ pipelineId, by: 'month', convert: { base: 'EUR', rates: { USD: 0.9 } } });
      expect(converted.months.map((m) => m.converted)).toEqual([{ currency: 'EUR', amount: 3200, weighted: 1130 }, { currency: 'EUR', amount: 1500, weighted: 1050 }]);
      const partial = await anna.reports.forecast({ pipelineId, by: 'month', convert: { base: 'EUR', rates: {} } });
      expect(partial.months[0]!.converted).toEqual({ currency: 'EUR', amount: 500, weighted: 50 });
      expect(partial.months[0]!.unconverted).toEqual([{ currency: 'USD', dealIds: ['deal_4'], amount: 3000, weighted: 1200 }]);
      const ranged = await anna.reports.forecast({ pipelineId, by: 'month', from: '2026-02', to: '2026-12' });
      expect(ranged.months.map((m) => m.month)).toEqual(['2026-02']);
      // Rows are for people: money in major units with the currency's ISO 4217 decimals; text cells quoted.
      expect(toCsv(plain.rows)).toBe('"month","currency","deals","amount","weighted"\r\n,"EUR",1,"5.00","0.50"\r\n,"USD",1,"30.00","12.00"\r\n"2026-02","EUR",1,"15.00","10.50"\r\n');
    });

    it('performance: per owner leads, deals, value, win rate, cycle, tasks and postponements', async () => {
      const { anna } = await buildReportsDataset(await open());
      const report = await anna.reports.performance(WINDOW);
      expect(report.owners.map(({ drill: _d, ...o }) => o)).toEqual([
        { ownerId: 'anna', leadsAssigned: 2, leadsConverted: 1, dealsWon: 1, dealsLost: 1, wonValue: [{ currency: 'EUR', amount: 1000 }], winRate: 0.5, meanCycleDays: 5, tasksDone: 1, tasksOverdue: 1, postponements: 1 },
        { ownerId: 'ben', leadsAssigned: 1, leadsConverted: 0, dealsWon: 0, dealsLost: 1, wonValue: [], winRate: 0, meanCycleDays: null, tasksDone: 0, tasksOverdue: 0, postponements: 0 },
      ]);
      expect(report.rows.map((r) => r.wonValue)).toEqual(['10.00 EUR', '']);
      const done = await anna.reports.drill(report.owners[0]!.drill.tasksDone);
      expect(done.items).toHaveLength(1);
    });

    it('customers: lifetime value, inactivity and the at-risk list', async () => {
      const { anna } = await buildReportsDataset(await open());
      const report = await anna.reports.customers({ inactiveDays: 7 });
      expect(report.contacts.map(({ drill: _d, ...c }) => c)).toEqual([
        { type: 'contact', id: 'ctc_1', name: 'Client One', wonDeals: 1, lifetimeValue: [{ currency: 'EUR', amount: 1000 }], cumulativeShare: 1, lastInteractionAt: '2026-01-10T09:00:00.000Z', daysInactive: 5, atRisk: false },
      ]);
      expect(report.companies.map((c) => [c.id, c.lastInteractionAt, c.atRisk])).toEqual([['co_1', null, true]]);
      expect(report.atRisk.map((c) => c.id)).toEqual(['co_1']);
      const stricter = await anna.reports.customers({ inactiveDays: 3 });
      expect(stricter.atRisk.map((c) => c.id)).toEqual(['ctc_1', 'co_1']);
    });

    it('report rows show money in major units with each currency\'s ISO 4217 decimals', async () => {
      const adapter = await open();
      const crm = await createCrm({ storage: adapter, tenantId: 'money', logger: silentLogger, random: { seed: 'money' }, closeStorage: false, features: [reports()] });
      await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
      const customer = await crm.contacts.create({ name: 'Nordwind' });
      for (const value of [{ amount: 123_456, currency: 'EUR' }, { amount: 5000, currency: 'JPY' }, { amount: 1500, currency: 'KWD' }, { amount: 99, currency: 'HUF' }]) {
        const deal = await crm.deals.create({ title: value.currency, value, contactId: customer.id });
        await crm.deals.win(deal.id);
      }
      const report = await crm.reports.customers();
      expect(report.contacts[0]!.lifetimeValue).toEqual([
        { currency: 'EUR', amount: 123_456 }, { currency: 'HUF', amount: 99 }, { currency: 'JPY', amount: 5000 }, { currency: 'KWD', amount: 1500 },
      ]);
      expect(report.rows[0]!.lifetimeValue).toBe('1234.56 EUR; 0.99 HUF; 5000 JPY; 1.500 KWD');
      await crm.close();
    });

    it('lead scoring: naive Bayes over stage, source and country, with factors; manual probability untouched', async () => {
      const { anna, ids } = await buildReportsDataset(await open());
      const model = await anna.scoring.model();
      expect(model.prior).toEqual({ won: 1, lost: 2 });
      // Stage counts are cumulative: D1 (won) passed every open stage, D2 was lost from qualified, D6 from new.
      expect(model.features.stage).toEqual({ values: { new: { won: 1, lost: 2 }, proposal: { won: 1, lost: 0 }, qualified: { won: 1, lost: 1 } } });
      expect(model.features.source).toEqual({ values: { ads: { won: 0, lost: 1 }, web: { won: 1, lost: 1 } } });
      expect(model.features.country).toEqual({ values: {} }); // unset values are not counted
      const prediction = await anna.scoring.score({ type: 'deal', id: ids.D5 });
      // Hand-computed with 0.1 smoothing: odds 1/2 × (1.1/1.1)/(0.1/2.1) × (1.1/1.2)/(1.1/2.2) = 19.25 → 95.06 %.
      expect(prediction.probability).toBe(95.06);
      expect(prediction.factors.map((f) => [f.field, f.value])).toEqual([['stage', 'proposal'], ['source', 'web']]);
      expect((await anna.scoring.score({ type: 'deal', id: ids.D1 })).probability).toBe(100); // won: 100 %
      await anna.deals.update(ids.D3, { probability: 33 });
      const applied = await anna.scoring.apply();
      expect(applied.deals).toBe(3);
      const d3 = await anna.deals.get(ids.D3);
      expect(d3.probability).toBe(33);
      expect(d3.probabilityManual).toBe(true);
      expect(d3.predictedProbability).toBeGreaterThan(0);
      expect((await anna.deals.get(ids.D5)).predictedProbability).toBe(95.06);
    });
  });
}
