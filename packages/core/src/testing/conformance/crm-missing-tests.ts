import { describe, expect, it } from 'vitest';
import { isCrmError, type CrmError } from '../../errors/crm-error.js';
import type { CrmSubject, FullCrm } from './crm-harness.js';

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

function describeError(error: unknown): string {
  return isCrmError(error) ? `${error.code} ${JSON.stringify(error.details)}` : String(error);
}

/** Records of another tenant on the same storage, to prove they count as missing too. */
interface Foreign {
  readonly lead: string;
  readonly contact: string;
  readonly company: string;
  readonly deal: string;
  readonly pipeline: string;
  readonly task: string;
  readonly activity: string;
  readonly strategy: string;
}

async function foreignRecords(other: FullCrm): Promise<Foreign> {
  const pipeline = await other.pipelines.create({ name: 'Theirs', stages: [{ key: 'new', name: 'New' }] });
  const company = await other.companies.create({ name: 'Their company' });
  const contact = await other.contacts.create({ name: 'Their contact' });
  const lead = await other.leads.create({ name: 'Their lead' });
  const deal = await other.deals.create({ title: 'Their deal' });
  const task = await other.tasks.create({ subject: 'Their task', dueAt: '2026-01-06T10:00:00Z' });
  const activity = await other.activities.log({ kind: 'note' });
  const strategy = await other.assignment.createStrategy({ name: 'Theirs', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'x' }] });
  return { lead: lead.id, contact: contact.id, company: company.id, deal: deal.id, pipeline: pipeline.id, task: task.id, activity: activity.id, strategy: strategy.id };
}

type Call = readonly [label: string, run: (crm: FullCrm, id: (entity: keyof Foreign) => string) => Promise<unknown>];

/** Every method that takes the id of the record it is about. */
const SUBJECT_CALLS: readonly Call[] = [
  ['leads.get', (c, id) => c.leads.get(id('lead'))],
  ['leads.update', (c, id) => c.leads.update(id('lead'), { name: 'x' })],
  ['leads.qualify', (c, id) => c.leads.qualify(id('lead'))],
  ['leads.disqualify', (c, id) => c.leads.disqualify(id('lead'))],
  ['leads.convert', (c, id) => c.leads.convert(id('lead'))],
  ['duplicates.find', (c, id) => c.duplicates.find(id('lead'))],
  ['leads.remove', (c, id) => c.leads.remove(id('lead'))],
  ['contacts.get', (c, id) => c.contacts.get(id('contact'))],
  ['contacts.update', (c, id) => c.contacts.update(id('contact'), { name: 'x' })],
  ['contacts.remove', (c, id) => c.contacts.remove(id('contact'))],
  ['companies.get', (c, id) => c.companies.get(id('company'))],
  ['companies.update', (c, id) => c.companies.update(id('company'), { name: 'x' })],
  ['companies.remove', (c, id) => c.companies.remove(id('company'))],
  ['deals.get', (c, id) => c.deals.get(id('deal'))],
  ['deals.update', (c, id) => c.deals.update(id('deal'), { title: 'x' })],
  ['deals.stageHistory', (c, id) => c.deals.stageHistory(id('deal'))],
  ['deals.board', (c, id) => c.deals.board(id('pipeline'))],
  ['deals.advance', (c, id) => c.deals.advance(id('deal'))],
  ['deals.postpone', (c, id) => c.deals.postpone(id('deal'), { until: '2026-02-01T00:00:00Z' })],
  ['deals.lose', (c, id) => c.deals.lose(id('deal'), { reason: 'price' })],
  ['deals.win', (c, id) => c.deals.win(id('deal'))],
  ['deals.reopen', (c, id) => c.deals.reopen(id('deal'), { toStage: 'new' })],
  ['deals.remove', (c, id) => c.deals.remove(id('deal'))],
  ['funnel.check', (c, id) => c.funnel.check(id('deal'), { type: 'advance' })],
  ['pipelines.get', (c, id) => c.pipelines.get(id('pipeline'))],
  ['pipelines.update', (c, id) => c.pipelines.update(id('pipeline'), { name: 'x' })],
  ['pipelines.addStage', (c, id) => c.pipelines.addStage(id('pipeline'), { stage: { key: 'x', name: 'X' } })],
  ['pipelines.updateStage', (c, id) => c.pipelines.updateStage(id('pipeline'), 'new', { name: 'x' })],
  ['pipelines.reorderStages', (c, id) => c.pipelines.reorderStages(id('pipeline'), { keys: ['new', 'won', 'lost'] })],
  ['pipelines.removeStage', (c, id) => c.pipelines.removeStage(id('pipeline'), 'new')],
  ['tasks.get', (c, id) => c.tasks.get(id('task'))],
  ['tasks.update', (c, id) => c.tasks.update(id('task'), { subject: 'x' })],
  ['tasks.complete', (c, id) => c.tasks.complete(id('task'))],
  ['tasks.postpone', (c, id) => c.tasks.postpone(id('task'), { until: '2026-02-01T00:00:00Z' })],
  ['tasks.cancel', (c, id) => c.tasks.cancel(id('task'))],
  ['activities.get', (c, id) => c.activities.get(id('activity'))],
  ['assignment.getStrategy', (c, id) => c.assignment.getStrategy(id('strategy'))],
  ['assignment.updateStrategy', (c, id) => c.assignment.updateStrategy(id('strategy'), { name: 'x' })],
  ['assignment.assign (record)', (c, id) => c.assignment.assign({ type: 'lead', id: id('lead') }, 'any-strategy')],
  ['timeline (lead)', (c, id) => c.timeline({ type: 'lead', id: id('lead') })],
  ['timeline (contact)', (c, id) => c.timeline({ type: 'contact', id: id('contact') })],
  ['timeline (company)', (c, id) => c.timeline({ type: 'company', id: id('company') })],
  ['timeline (deal)', (c, id) => c.timeline({ type: 'deal', id: id('deal') })],
  ['reports.funnel', (c, id) => c.reports.funnel({ pipelineId: id('pipeline'), from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' })],
  ['reports.velocity', (c, id) => c.reports.velocity({ pipelineId: id('pipeline'), from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' })],
  ['reports.forecast', (c, id) => c.reports.forecast({ pipelineId: id('pipeline'), by: 'month' })],
  ['reports.performance', (c, id) => c.reports.performance({ pipelineId: id('pipeline'), from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' })],
  ['scoring.model', (c, id) => c.scoring.model({ pipelineId: id('pipeline') })],
  ['scoring.score', (c, id) => c.scoring.score({ type: 'deal', id: id('deal') })],
  ['scoring.apply', (c, id) => c.scoring.apply({ pipelineId: id('pipeline') })],
];

/** Every method whose input links to other records: a missing link is bad input, reported at its path. */
const LINK_CALLS: readonly (readonly [label: string, path: string, run: (crm: FullCrm, missing: string) => Promise<unknown>])[] = [
  ['deals.create pipelineId', 'pipelineId', (c, m) => c.deals.create({ title: 'x', pipelineId: m })],
  ['deals.create contactId', 'contactId', (c, m) => c.deals.create({ title: 'x', contactId: m })],
  ['deals.create companyId', 'companyId', (c, m) => c.deals.create({ title: 'x', companyId: m })],
  ['deals.create leadId', 'leadId', (c, m) => c.deals.create({ title: 'x', leadId: m })],
  ['imports.deals contactId', '1.contactId', (c, m) => c.imports.deals([{ title: 'ok' }, { title: 'x', contactId: m }])],
  ['deals.update companyId', 'companyId', async (c, m) => c.deals.update((await c.deals.create({ title: 'y' })).id, { companyId: m })],
  ['contacts.create companyId', 'companyId', (c, m) => c.contacts.create({ name: 'x', companyId: m })],
  ['contacts.update companyId', 'companyId', async (c, m) => c.contacts.update((await c.contacts.create({ name: 'y' })).id, { companyId: m })],
  ['tasks.create dealId', 'dealId', (c, m) => c.tasks.create({ subject: 'x', dealId: m })],
  ['tasks.create leadId', 'leadId', (c, m) => c.tasks.create({ subject: 'x', leadId: m })],
  ['activities.log taskId', 'taskId', (c, m) => c.activities.log({ kind: 'note', taskId: m })],
  ['activities.log participant', 'participants.0.contactId', (c, m) => c.activities.log({ kind: 'note', participants: [{ contactId: m }] })],
  ['leads.create assignWith', 'assignWith', (c, m) => c.leads.create({ name: 'x' }, { assignWith: m })],
  ['leads.convert contactId', 'contactId', async (c, m) => c.leads.convert((await c.leads.create({ name: 'y' })).id, { contactId: m })],
  ['leads.convert companyId', 'companyId', async (c, m) => c.leads.convert((await c.leads.create({ name: 'y' })).id, { companyId: m })],
  ['assignment.assign strategyId', 'strategyId', async (c, m) => c.assignment.assign({ type: 'lead', id: (await c.leads.create({ name: 'y' })).id }, m)],
  ['pipelines.removeStage moveDealsTo', 'moveDealsTo', async (c, m) => {
    const p = await c.pipelines.create({ name: 'Q', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }] });
    await c.deals.create({ title: 'in a', pipelineId: p.id, stageKey: 'a' });
    return c.pipelines.removeStage(p.id, 'a', { moveDealsTo: m.replace(/[^a-z]/g, '').slice(0, 20) || 'nostage' });
  }],
];

/**
 * Missing records: every method about a record answers `NOT_FOUND` for an id the tenant does not
 * have (never an empty result), and a missing record an input links to is `VALIDATION` at its path.
 */
export function crmMissingTests(open: () => Promise<CrmSubject>): void {
  describe('missing records', () => {
    it('every method about a record answers NOT_FOUND for an unknown id and for another tenant\'s', async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'Ours', stages: [{ key: 'new', name: 'New' }] });
      const foreign = await foreignRecords(s.other);
      const before = await s.dump();
      const problems: string[] = [];
      for (const [label, run] of SUBJECT_CALLS) {
        for (const [kind, id] of [['unknown', (entity: keyof Foreign) => `${entity}_does_not_exist`], ['foreign', (entity: keyof Foreign) => foreign[entity]]] as const) {
          const error = await failure(run(s.crm, id));
          if (!isCrmError(error, 'NOT_FOUND')) problems.push(`${label} (${kind} id): ${error === undefined ? 'resolved' : describeError(error)}`);
        }
      }
      expect(problems).toEqual([]);
      expect(await s.dump()).toBe(before);
    });

    it('a missing record an input links to is VALIDATION with the path of the link, and writes nothing', async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'Ours', stages: [{ key: 'new', name: 'New' }] });
      const foreign = await foreignRecords(s.other);
      const problems: string[] = [];
      for (const [label, path, run] of LINK_CALLS) {
        for (const missing of ['missing_record', foreign.deal]) {
          const before = await s.dump();
          const error = await failure(run(s.crm, missing));
          const ok = isCrmError(error, 'VALIDATION') && (error as CrmError<'VALIDATION'>).details.issues.some((i) => i.path.join('.') === path && i.code === 'not_found');
          if (!ok) problems.push(`${label}: ${error === undefined ? 'resolved' : describeError(error)}`);
          // Setup calls inside `run` may write; the failing call itself must not.
          if (ok && !label.startsWith('deals.update') && !label.startsWith('contacts.update') && !label.startsWith('leads.convert') && !label.startsWith('assignment.assign') && !label.startsWith('pipelines.removeStage')) {
            expect(await s.dump(), label).toBe(before);
          }
        }
      }
      expect(problems).toEqual([]);
    });

    it('removed records keep their history: timeline and stage history still answer', async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'Ours', stages: [{ key: 'new', name: 'New' }, { key: 'next', name: 'Next' }] });
      const deal = await s.crm.deals.create({ title: 'Gone soon' });
      await s.crm.deals.advance(deal.id);
      await s.crm.deals.remove(deal.id);
      const history = await s.crm.deals.stageHistory(deal.id);
      expect(history.map((v) => [v.stageKey, v.exitKind ?? null])).toEqual([['new', 'advanced'], ['next', 'removed']]);
      const { items } = await s.crm.timeline({ type: 'deal', id: deal.id });
      expect(items.map((e) => e.type)).toEqual(['deal.removed', 'deal.stageChanged', 'deal.created']);
      await expect(s.crm.deals.get(deal.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('observers of a missing record report NOT_FOUND as their error state', async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'Ours', stages: [{ key: 'new', name: 'New' }] });
      const observers = [s.crm.observe.deal('deal_missing'), s.crm.observe.board('pipeline_missing'), s.crm.observe.timeline({ type: 'company', id: 'company_missing' })];
      for (const observer of observers) {
        const stop = observer.subscribe(() => undefined);
        await observer.refetch();
        expect(observer.getSnapshot()).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } });
        stop();
      }
    });
  });
}
