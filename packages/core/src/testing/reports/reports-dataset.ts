import { createCrm } from '../../crm/create-crm.js';
import type { CrmWith } from '../../crm/feature.js';
import { silentLogger } from '../../crm/logger.js';
import type { StorageAdapter } from '../../storage/storage-adapter.js';
import { reports, type ReportsFeature } from '../../reports/reports-feature.js';
import { scoring, type ScoringFeature } from '../../scoring/scoring-feature.js';
import { tasks, type TasksFeature } from '../../tasks/tasks-feature.js';
import { activities, type ActivitiesFeature } from '../../activities/activities-feature.js';
import { createFakeClock, type FakeClock } from '../fake-clock.js';

const DAY = 86_400_000;

/** A crm with the reports, scoring, tasks and activities features. */
export type ReportingCrm = CrmWith<[ReportsFeature, ScoringFeature, TasksFeature, ActivitiesFeature]>;

/** The dataset's records, by the names the expected figures use. */
export interface ReportsDataset {
  readonly anna: ReportingCrm;
  readonly ben: ReportingCrm;
  readonly clock: FakeClock;
  readonly pipelineId: string;
  readonly ids: Readonly<Record<'D1' | 'D2' | 'D3' | 'D4' | 'D5' | 'D6' | 'C1' | 'C2' | 'K1', string>>;
}

/**
 * Builds the small, hand-computed sales history the report expectations are written for:
 * six deals of two managers over ten days (wins, losses, a backward move, a postponement),
 * three leads, tasks and an interaction. Everything goes through the public API.
 */
export async function buildReportsDataset(storage: StorageAdapter): Promise<ReportsDataset> {
  const clock = createFakeClock('2026-01-05T09:00:00.000Z');
  const as = (userId: string) =>
    createCrm({ storage, tenantId: 'reports', actor: { userId }, clock, logger: silentLogger, random: { seed: userId }, closeStorage: false, defaultCurrency: 'EUR', features: [reports(), scoring(), tasks(), activities()] });
  const anna = await as('anna');
  const ben = await as('ben');
  const t0 = clock.now();
  const at = (days: number) => clock.set(t0 + days * DAY);

  const pipeline = await anna.pipelines.create({
    id: 'pl_sales',
    name: 'Sales',
    stages: [
      { key: 'new', name: 'New', probability: 10 },
      { key: 'qualified', name: 'Qualified', probability: 40 },
      { key: 'proposal', name: 'Proposal', probability: 70 },
    ],
  });
  const C1 = await anna.contacts.create({ id: 'ctc_1', name: 'Client One' });
  const K1 = await anna.companies.create({ id: 'co_1', name: 'Key Account' });
  const C2 = await ben.contacts.create({ id: 'ctc_2', name: 'Client Two' });
  await anna.leads.create({ name: 'Lead 1', ownerId: 'anna' });
  await ben.leads.create({ name: 'Lead 2', ownerId: 'ben' });
  const L3 = await anna.leads.create({ name: 'Lead 3', ownerId: 'anna' });
  const eur = (amount: number) => ({ amount, currency: 'EUR' });

  const D1 = await anna.deals.create({ id: 'deal_1', title: 'D1', value: eur(1000), contactId: C1.id, companyId: K1.id, source: 'web' });
  const D2 = await anna.deals.create({ id: 'deal_2', title: 'D2', value: eur(2000), contactId: C1.id, source: 'web' });
  const D5 = await anna.deals.create({ id: 'deal_5', title: 'D5', value: eur(1500), expectedCloseDate: '2026-02-15', source: 'web' });
  await anna.leads.convert(L3.id);
  const T1 = await anna.tasks.create({ subject: 'T1', dueAt: new Date(t0 + DAY).toISOString() });
  await anna.tasks.create({ subject: 'T2', dueAt: new Date(t0 + 2 * DAY).toISOString() });
  await ben.tasks.create({ subject: 'T3', dueAt: new Date(t0 + 30 * DAY).toISOString() });

  at(1);
  await anna.deals.advance(D1.id);
  await anna.deals.advance(D5.id);
  await anna.tasks.complete(T1.id, { outcome: 'done' });
  const D3 = await ben.deals.create({ id: 'deal_3', title: 'D3', value: eur(500) });
  const D4 = await ben.deals.create({ id: 'deal_4', title: 'D4', value: { amount: 3000, currency: 'USD' }, contactId: C2.id });
  at(2);
  await anna.deals.advance(D2.id);
  await anna.deals.advance(D5.id);
  await ben.deals.advance(D4.id);
  const D6 = await ben.deals.create({ id: 'deal_6', title: 'D6', value: eur(800), expectedCloseDate: '2026-03-10', source: 'ads' });
  at(3);
  await anna.deals.advance(D1.id);
  await ben.deals.advance(D4.id, { toStage: 'new' });
  await ben.deals.lose(D6.id, { reason: 'other', comment: 'No fit' });
  at(4);
  await anna.deals.lose(D2.id, { reason: 'price' });
  await ben.deals.advance(D4.id);
  at(5);
  await anna.deals.win(D1.id);
  await anna.activities.log({ kind: 'call', contactId: C1.id, outcome: 'Thanks for the order' });
  await anna.deals.postpone(D5.id, { until: new Date(t0 + 40 * DAY).toISOString(), reason: 'Budget freeze' });
  at(10);
  return { anna, ben, clock, pipelineId: pipeline.id, ids: { D1: D1.id, D2: D2.id, D3: D3.id, D4: D4.id, D5: D5.id, D6: D6.id, C1: C1.id, C2: C2.id, K1: K1.id } };
}
