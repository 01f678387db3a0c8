import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { where } from '../../query/query-spec.js';
import type { CrmEvent } from '../../events/event-map.js';
import { scheduler } from '../../scheduler/scheduler-feature.js';
import { lockedPaths, scribble, snapshotOf } from '../ownership.js';
import type { CrmSubject } from './crm-harness.js';

/**
 * Runs one public call on fresh copies of `templates` and proves the ownership rule around it: every
 * argument is unchanged and unfrozen afterwards, and neither changing those arguments nor the result
 * (nor the events the call emitted) changes anything stored. Returns a copy of the result.
 */
async function owned<A extends unknown[], T>(
  s: CrmSubject,
  label: string,
  templates: [...A],
  run: (...args: A) => Promise<T>,
  expectFailure = false,
): Promise<T> {
  const args = templates.map((t) => snapshotOf(t)) as unknown as A;
  const before = args.map((a) => snapshotOf(a));
  const events: CrmEvent[] = [];
  const off = s.crm.on('*', (event) => events.push(event));
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await run(...args);
  } catch (error) {
    failure = error;
  } finally {
    off();
  }
  if (failure !== undefined && !expectFailure) throw failure;
  args.forEach((arg, i) => {
    expect(arg, `${label}: argument ${i} was changed`).toEqual(before[i]);
    expect(lockedPaths(arg), `${label}: argument ${i} was frozen`).toEqual([]);
  });
  const copy = result === undefined ? undefined : snapshotOf(result);
  const stored = await s.dump();
  args.forEach((arg) => scribble(arg));
  scribble(result);
  events.forEach((event) => scribble(event));
  expect(await s.dump(), `${label}: a caller's object reached stored state`).toBe(stored);
  return copy as T;
}

const rich = () => ({ features: ['a', 'b'], budget: { amount: 5000, currency: 'EUR' } });

/** The ownership rule at the service level, over every public method, on this adapter. */
export function crmOwnershipTests(open: () => Promise<CrmSubject>): void {
  describe('caller-owned objects (every public method)', () => {
    it('the example of issue 19: the custom array of a new deal stays the caller\'s', async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
      await s.crm.customFields.define({ entity: 'deal', key: 'features', label: 'F', type: 'multiselect', options: [{ value: 'x' }, { value: 'y' }] });
      const features = ['x'];
      const deal = await s.crm.deals.create({ title: 'a', custom: { features } });
      features.push('y');
      expect(features).toEqual(['x', 'y']);
      expect((await s.crm.deals.get(deal.id)).custom).toEqual({ features: ['x'] });
    });

    it('no call freezes, changes or keeps its arguments; no result or event reaches stored state', async () => {
      const s = await open();
      const { crm } = s;
      const o = <A extends unknown[], T>(label: string, templates: [...A], run: (...args: A) => Promise<T>) => owned(s, label, templates, run);
      const fails = <A extends unknown[], T>(label: string, templates: [...A], run: (...args: A) => Promise<T>) => owned(s, label, templates, run, true);

      // Configuration.
      const options = (...values: string[]) => values.map((value) => ({ value }));
      await o('customFields.define', [{ entity: 'deal' as const, key: 'features', label: 'Features', type: 'multiselect' as const, options: options('a', 'b', 'c') }], (i) => crm.customFields.define(i));
      await o('customFields.define', [{ entity: 'deal' as const, key: 'budget', label: 'Budget', type: 'money' as const }], (i) => crm.customFields.define(i));
      for (const entity of ['lead', 'contact', 'company'] as const) {
        await o('customFields.define', [{ entity, key: 'features', label: 'Features', type: 'multiselect' as const, options: options('a', 'b') }], (i) => crm.customFields.define(i));
      }
      await o('customFields.update', [{ options: options('a', 'b', 'c', 'd'), version: 1 }], (p) => crm.customFields.update('deal', 'features', p));
      await o('customFields.list', [], () => crm.customFields.list('deal'));
      await o('calendar.set', [{ timezone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '17:00' }], holidays: ['2026-12-25'] }], (c) => crm.calendar.set(c));
      await o('calendar.get', [], () => crm.calendar.get());
      const chain = { type: 'email', subject: 'Recap', delay: { amount: 1, unit: 'businessDays' as const }, mode: 'suggest' as const };
      await o('tasks.defineType', [{ key: 'demo', label: 'Demo', reminders: [30, 60], chain }], (t) => crm.tasks.defineType(t));
      await o('tasks.listTypes', [], () => crm.tasks.listTypes());
      const pipeline = await o(
        'pipelines.create',
        [
          {
            name: 'Sales',
            stages: [
              { key: 'new', name: 'New', taskTemplates: [{ subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' as const } }] },
              { key: 'offer', name: 'Offer', probability: 60, entryRules: [{ type: 'field' as const, field: 'title', op: 'in' as const, value: ['x', 'Chairs', 'Desks'] }] },
            ],
            settings: { lostReasons: [{ key: 'price', label: 'Price' }, { key: 'other', label: 'Other', requiresComment: true }] },
          },
        ],
        (i) => crm.pipelines.create(i),
      );
      await o('pipelines.update', [{ settings: { lostReasons: [{ key: 'price', label: 'Too expensive' }, { key: 'other', label: 'Other', requiresComment: true }] } }], (p) => crm.pipelines.update(pipeline.id, p));
      await o('pipelines.addStage', [{ stage: { key: 'demo', name: 'Demo', exitRules: [{ type: 'hasContact' as const }] }, before: 'offer' }], (i) => crm.pipelines.addStage(pipeline.id, i));
      await o('pipelines.updateStage', [{ taskTemplates: [{ subject: 'Prepare', type: 'todo', due: { amount: 2, unit: 'hours' as const } }] }], (p) => crm.pipelines.updateStage(pipeline.id, 'demo', p));
      await o('pipelines.reorderStages', [{ keys: ['new', 'demo', 'offer', 'won', 'lost'] }], (i) => crm.pipelines.reorderStages(pipeline.id, i));
      await o('pipelines.list', [{ where: where.eq('archived', false), orderBy: [{ field: 'createdAt' as const }] }], (i) => crm.pipelines.list(i));
      await o('pipelines.get', [], () => crm.pipelines.get(pipeline.id));
      const strategy = await o('assignment.createStrategy', [{ name: 'Round', entity: 'lead' as const, kind: 'roundRobin' as const, owners: [{ userId: 'anna' }, { userId: 'ben', capacity: 5 }] }], (i) => crm.assignment.createStrategy(i));
      await o('assignment.updateStrategy', [{ owners: [{ userId: 'anna' }, { userId: 'ben' }, { userId: 'cleo' }] }], (p) => crm.assignment.updateStrategy(strategy.id, p));
      await o('assignment.getStrategy', [], () => crm.assignment.getStrategy(strategy.id));
      await o('assignment.listStrategies', [], () => crm.assignment.listStrategies());

      // Cards.
      const company = await o('companies.create', [{ name: 'Acme', domain: 'acme.example', tags: ['key'], custom: { features: ['a'] } }], (i) => crm.companies.create(i));
      await o('companies.update', [{ tags: ['key', 'eu'], custom: { features: ['a', 'b'] } }], (p) => crm.companies.update(company.id, p));
      const contact = await o('contacts.create', [{ name: 'Ada', email: 'ada@acme.example', companyId: company.id, tags: ['vip'], custom: { features: ['b'] } }], (i) => crm.contacts.create(i));
      await o('contacts.update', [{ tags: ['vip', 'tech'], custom: { features: ['a'] } }], (p) => crm.contacts.update(contact.id, p));
      const lead = await o('leads.create', [{ name: 'Grace', email: 'grace@navy.example', companyName: 'Navy', tags: ['web'], custom: { features: ['a', 'b'] } }, { assignWith: strategy.id }], (i, opts) => crm.leads.create(i, opts));
      await o('leads.update', [{ tags: ['web', 'hot'], custom: { features: ['b'] }, expectedValue: { amount: 900, currency: 'EUR' } }], (p) => crm.leads.update(lead.id, p));
      await fails('leads.qualify (stale version)', [{ version: 1 }], (p) => crm.leads.qualify(lead.id, p));
      await o('leads.qualify', [{}], (p) => crm.leads.qualify(lead.id, p));
      await o('duplicates.find', [{ email: 'GRACE@navy.example', name: 'Grace' }, { entities: ['lead', 'contact'] as ('lead' | 'contact')[], minScore: 0.1 }], (probe, opts) => crm.duplicates.find(probe, opts));
      const converted = await o(
        'leads.convert',
        [{ contact: { tags: ['converted'], custom: { features: ['a'] } }, deal: { title: 'From lead', lineItems: [{ name: 'Seat', quantity: 2, unitPrice: 100 }], custom: { features: ['c'] } } }],
        (opts) => crm.leads.convert(lead.id, opts),
      );
      const lead2 = await crm.leads.create({ name: 'Linus' });
      await o('leads.disqualify', [{ reason: 'spam' }], (opts) => crm.leads.disqualify(lead2.id, opts));
      const leadList = { where: where.and(where.in('status', ['new', 'qualified', 'disqualified']), where.containsAny('tags', ['web', 'hot'])), orderBy: [{ field: 'name' as const, direction: 'asc' as const }], limit: 10 };
      await o('leads.list', [leadList], (l) => crm.leads.list(l));
      await o('contacts.list', [{ where: where.containsAny('tags', ['vip']), orderBy: [{ field: 'name' as const }] }], (l) => crm.contacts.list(l));
      await o('companies.list', [{ where: where.in('name', ['Acme', 'Navy']) }], (l) => crm.companies.list(l));
      await o('leads.remove', [{}], (opts) => crm.leads.remove(lead2.id, opts));

      // Deals and the funnel.
      const deal = await o(
        'deals.create',
        [
          {
            title: 'Chairs', pipelineId: pipeline.id, contactId: contact.id, companyId: company.id, currency: 'EUR', tags: ['q1'],
            lineItems: [{ name: 'Chair', quantity: 4, unitPrice: 12_900, discountPercent: 10 }],
            custom: rich(),
            nextStep: { subject: 'Call back', type: 'call', dueAt: '2026-01-06T10:00:00Z', reminders: [15, 60] },
          },
        ],
        (i) => crm.deals.create(i),
      );
      const many = [0, 1, 2].map((i) => ({ title: `Import ${i}`, tags: ['import'], custom: { features: ['a', 'b'] }, lineItems: [{ name: 'Item', quantity: 1, unitPrice: 100 * (i + 1) }] }));
      await o('imports.deals', [many, { progressEvery: 1 }], (inputs, opts) => crm.imports.deals(inputs, opts));
      await o('deals.update', [{ tags: ['q1', 'big'], custom: { features: ['a'], budget: { amount: 7000, currency: 'EUR' } }, lineItems: [{ name: 'Desk', quantity: 1, unitPrice: 50_000 }] }], (p) => crm.deals.update(deal.id, p));
      await o('deals.list', [{ where: where.and(where.containsAny('custom.features', ['a']), where.gte('value.amount', 0)), orderBy: [{ field: 'value.amount' as const, direction: 'desc' as const }] }], (l) => crm.deals.list(l));
      await o('deals.list (rotting)', [{ rotting: true as const, where: where.eq('ownerId', 'anna') }], (l) => crm.deals.list(l));
      await o('deals.aggregate', [{ where: where.eq('pipelineId', pipeline.id), groupBy: ['stageKey' as const], metrics: { n: { fn: 'count' as const }, total: { fn: 'sum' as const, field: 'value.amount' as const } } }], (a) => crm.deals.aggregate(a));
      const boardOptions = { where: where.eq('ownerId', 'anna'), stages: ['new', 'demo'], limitPerStage: 1, orderBy: [{ field: 'stageEnteredAt' as const }] };
      const board = await o('deals.board', [boardOptions], (b) => crm.deals.board(pipeline.id, b));
      const cursors = Object.fromEntries(board.columns.filter((c) => c.nextCursor).map((c) => [c.stage.key, c.nextCursor!]));
      await o('deals.board (cursors)', [{ ...boardOptions, cursors }], (b) => crm.deals.board(pipeline.id, b));
      await o('funnel.check', [{ type: 'advance' as const, toStage: 'demo' }, { withNextStep: true }], (m, opts) => crm.funnel.check(deal.id, m, opts));
      await o('deals.advance', [{ toStage: 'demo', nextStep: { subject: 'Demo', type: 'demo', dueAt: '2026-01-07T10:00:00Z', reminders: [5] } }], (opts) => crm.deals.advance(deal.id, opts));
      await o('deals.postpone', [{ until: '2026-01-09T10:00:00Z', reason: 'holiday' }], (opts) => crm.deals.postpone(deal.id, opts));
      await o('deals.lose', [{ reason: 'other', comment: 'went quiet' }], (opts) => crm.deals.lose(deal.id, opts));
      await o('deals.reopen', [{ toStage: 'new', nextStep: { subject: 'Retry', dueAt: '2026-01-10T10:00:00Z', reminders: [10] } }], (opts) => crm.deals.reopen(deal.id, opts));
      await o('deals.stageHistory', [], () => crm.deals.stageHistory(deal.id));
      await o('deals.get', [], () => crm.deals.get(deal.id));
      await o('assignment.assign', [{ type: 'lead' as const, id: converted.lead.id }], (ref) => crm.assignment.assign(ref, strategy.id));

      // Tasks, activities, timeline.
      const task = await o('tasks.create', [{ subject: 'Follow up', type: 'call', dueAt: '2026-01-06T15:00:00Z', dealId: deal.id, contactId: contact.id, reminders: [10, 20] }], (i) => crm.tasks.create(i));
      await o('tasks.update', [{ reminders: [5], notes: 'bring slides' }], (p) => crm.tasks.update(task.id, p));
      await o('tasks.postpone', [{ until: '2026-01-12T15:00:00Z', reason: 'ill' }], (opts) => crm.tasks.postpone(task.id, opts));
      const current = await crm.tasks.get(task.id);
      const completed = await o('tasks.complete', [{ outcome: 'done', next: { subject: 'Next', dueAt: '2026-01-13T10:00:00Z', reminders: [30] }, version: current.version }], (opts) => crm.tasks.complete(task.id, opts));
      await o('tasks.cancel', [{ reason: 'not needed' }], (opts) => crm.tasks.cancel(completed.created[0]!.id, opts));
      await o('tasks.list', [{ where: where.in('status', ['open', 'done', 'cancelled']), orderBy: [{ field: 'dueAt' as const }] }], (l) => crm.tasks.list(l));
      await o('tasks.agenda', [{ ownerId: 'anna', to: '2026-02-01T00:00:00Z' }], (a) => crm.tasks.agenda(a));
      await o('tasks.workload', [{ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', ownerIds: ['anna', 'ben'] }], (w) => crm.tasks.workload(w));
      await o('tasks.get', [], () => crm.tasks.get(task.id));
      const logged = await o('activities.log', [{ kind: 'call' as const, direction: 'outbound' as const, dealId: deal.id, contactId: contact.id, participants: [{ contactId: contact.id }], outcome: 'ok' }], (a) => crm.activities.log(a));
      await o('activities.list', [{ where: where.eq('dealId', deal.id) }], (l) => crm.activities.list(l));
      await o('activities.get', [], () => crm.activities.get(logged.id));
      await o('timeline', [{ type: 'company' as const, id: company.id }, { types: ['deal.created', 'activity.logged'] as ('deal.created' | 'activity.logged')[], limit: 5 }], (ref, opts) => crm.timeline(ref, opts));
      await o('eventLog.list', [{ where: where.in('type', ['deal.created', 'deal.lost']), orderBy: [{ field: 'at' as const }, { field: 'id' as const }] }], (l) => crm.eventLog.list(l));

      // Features.
      const period = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', pipelineId: pipeline.id };
      await o('reports.funnel', [period], (p) => crm.reports.funnel(p));
      await o('reports.velocity', [period], (p) => crm.reports.velocity(p));
      await o('reports.performance', [period], (p) => crm.reports.performance(p));
      await o('reports.forecast', [{ pipelineId: pipeline.id, by: 'month' as const, convert: { base: 'USD', rates: { EUR: 1.1 } } }], (f) => crm.reports.forecast(f));
      await o('reports.customers', [{ inactiveDays: 3, limit: 1 }], (c) => crm.reports.customers(c));
      await o('reports.drill', [{ entity: 'deal' as const, where: where.and(where.eq('pipelineId', pipeline.id), where.in('status', ['open', 'lost'])) }, { limit: 2 }], (d, opts) => crm.reports.drill(d, opts));
      const scoringOptions = { fields: ['stage', 'source'], smoothing: 2 };
      await o('scoring.model', [scoringOptions], (opts) => crm.scoring.model(opts));
      await o('scoring.score', [{ type: 'deal' as const, id: deal.id }, scoringOptions], (ref, opts) => crm.scoring.score(ref, opts));
      await o('scoring.apply', [scoringOptions], (opts) => crm.scoring.apply(opts));
      s.clock.advance(3 * 86_400_000);
      await o('scheduler.tick', [], () => crm.scheduler.tick());
      await o('deals.win', [{}], (opts) => crm.deals.win(deal.id, opts));

      // Removal.
      await o('deals.remove', [{}], (opts) => crm.deals.remove(deal.id, opts));
      const orphan = await crm.contacts.create({ name: 'Nobody' });
      await o('contacts.remove', [{}], (opts) => crm.contacts.remove(orphan.id, opts));
      const empty = await crm.companies.create({ name: 'Empty' });
      await o('companies.remove', [{}], (opts) => crm.companies.remove(empty.id, opts));
      await o('pipelines.removeStage', [{ moveDealsTo: 'new' }], (opts) => crm.pipelines.removeStage(pipeline.id, 'demo', opts));
    });

    it('arbitrary rich inputs stay the caller\'s (property)', async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
      await s.crm.customFields.define({ entity: 'deal', key: 'features', label: 'F', type: 'multiselect', options: ['a', 'b', 'c', 'd'].map((value) => ({ value })) });
      const tags = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}$/), { maxLength: 5 });
      const features = fc.subarray(['a', 'b', 'c', 'd']);
      const lineItems = fc.array(fc.record({ name: fc.constantFrom('Chair', 'Desk'), quantity: fc.integer({ min: 1, max: 9 }), unitPrice: fc.integer({ min: 0, max: 10_000 }) }), { maxLength: 3 });
      await fc.assert(
        fc.asyncProperty(tags, features, lineItems, tags, features, async (t1, f1, items, t2, f2) => {
          const created = await owned(s, 'deals.create', [{ title: 'Deal', tags: t1, custom: { features: f1 }, lineItems: items }], (i) => s.crm.deals.create(i));
          await owned(s, 'deals.update', [{ tags: t2, custom: { features: f2 } }], (p) => s.crm.deals.update(created.id, p));
          await owned(s, 'deals.list', [{ where: where.containsAny('custom.features', f2.length ? f2 : ['a']) }], (l) => s.crm.deals.list(l));
        }),
        { numRuns: 15 },
      );
    });

    it('handlers, observers and caches cannot change what others see', async () => {
      const s = await open();
      const { crm } = s;
      const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
      // Event payloads: the first handler cannot change what the second receives.
      const seen: unknown[] = [];
      crm.on('deal.created', (event) => scribble(event));
      crm.on('deal.created', (event) => seen.push(snapshotOf(event.data.deal.title)));
      const deal = await crm.deals.create({ title: 'Chairs' });
      expect(seen).toEqual(['Chairs']);
      expect(deal.title).toBe('Chairs');
      // Observers: initial data and options are copied; snapshots are shared and frozen.
      const initial = { items: [snapshotOf(deal)] };
      const options = { where: where.eq('pipelineId', pipeline.id) };
      const observer = crm.observe.deals(options, initial);
      expect(lockedPaths(initial)).toEqual([]);
      scribble(options);
      const stop = observer.subscribe(() => undefined);
      await observer.refetch();
      const snapshot = observer.getSnapshot();
      expect(snapshot.data?.items.map((d) => d.id)).toEqual([deal.id]);
      scribble(snapshot);
      expect(observer.getSnapshot().data?.items[0]?.title).toBe('Chairs');
      stop();
      // Caches handed out: the calendar and the task types.
      scribble(await crm.calendar.get());
      scribble(await crm.tasks.listTypes());
      expect(await crm.calendar.get()).toMatchObject({ timezone: 'UTC', workingDays: [1, 2, 3, 4, 5] });
      expect((await crm.tasks.listTypes()).map((t) => t.key)).toEqual(['call', 'meeting', 'email', 'todo']);
      // Feature options are copied when the feature is made.
      const schedulerOptions = { batchSize: 5 };
      scheduler(schedulerOptions);
      expect(lockedPaths(schedulerOptions)).toEqual([]);
    });
  });
}
