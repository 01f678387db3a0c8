import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, where, type CrmFeature, type StageVisit } from '@crmkit/core';
import { assignment } from '@crmkit/core/assignment';
import { customFields } from '@crmkit/core/custom-fields';
import { duplicates } from '@crmkit/core/duplicates';
import { observers } from '@crmkit/core/observe';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { timeline } from '@crmkit/core/timeline';
import { createFakeClock, createTestCrm } from '@crmkit/core/testing';
import { expectCrmError } from '../helpers.js';

// Each rule a feature brings, checked without the feature (refused or degraded as documented in
// docs/funnel.md and docs/tasks-and-scheduler.md) and with it.

const base = { tenantId: 't', logger: silentLogger, random: { seed: 1 } } as const;
const STAGES = [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }];

describe('the feature list', () => {
  it('refuses a feature whose dependency is missing, naming both, before opening the storage', async () => {
    const storage = createMemoryStorage();
    const error = await expectCrmError(createCrm({ ...base, storage, features: [scheduler()] }), 'VALIDATION');
    expect(error.details.issues).toEqual([expect.objectContaining({ path: ['features', 0], message: expect.stringContaining('feature "scheduler" needs feature "tasks"') })]);
    await expectCrmError(storage.transaction('r', async () => undefined), 'STORAGE'); // never opened
    // The order does not matter, only presence.
    const crm = await createCrm({ ...base, storage, features: [scheduler(), tasks()] });
    expect(typeof crm.scheduler.tick).toBe('function');
  });

  it('refuses a feature adding a property another feature adds (tasks() adds crm.calendar)', async () => {
    const calendar: CrmFeature = { key: 'calendar', setup: () => ({ api: () => ({}) }) };
    const error = await expectCrmError(createCrm({ ...base, storage: createMemoryStorage(), features: [tasks(), calendar] }), 'VALIDATION');
    expect(error.message).toContain('crm.calendar');
  });

  it('a crm without features has the core services only', async () => {
    const crm = await createCrm({ ...base, storage: createMemoryStorage() });
    expect(Object.keys(crm).sort()).toEqual(['as', 'close', 'companies', 'contacts', 'deals', 'funnel', 'leads', 'on', 'pipelines', 'tenantId']);
  });

  it('timeline() adds crm.timeline and crm.eventLog; without it the events are logged all the same', async () => {
    const storage = createMemoryStorage();
    const bare = await createCrm({ ...base, storage, closeStorage: false });
    const contact = await bare.contacts.create({ name: 'Ada' });
    expect('timeline' in bare || 'eventLog' in bare).toBe(false);
    const crm = await createCrm({ ...base, storage, features: [timeline()] });
    expect((await crm.timeline({ type: 'contact', id: contact.id })).items.map((e) => e.type)).toEqual(['contact.created']);
    expect((await crm.eventLog.list()).items.map((e) => e.subjectId)).toEqual([contact.id]);
    // In a view the feature is there too, and reads as the principal.
    expect((await crm.as({ userId: 'anna' }).timeline({ type: 'contact', id: contact.id })).items).toHaveLength(1);
    await crm.close();
  });
});

describe('tasks in the funnel', () => {
  const bare = () => createTestCrm({ features: [timeline()] });

  it('without tasks, next steps, task templates and strict pipelines are refused with VALIDATION feature_required, writing nothing', async () => {
    const { crm, storage } = await bare();
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: STAGES });
    const deal = await crm.deals.create({ title: 'Chairs' });
    const lead = await crm.leads.create({ name: 'L' });
    const before = storage.snapshot();
    const nextStep = { subject: 'Call', dueAt: '2026-01-06T10:00:00Z' };
    const cases: [Promise<unknown>, (string | number)[]][] = [
      [crm.deals.create({ title: 'x', nextStep }), ['nextStep']],
      [crm.deals.advance(deal.id, { nextStep }), ['nextStep']],
      [crm.leads.convert(lead.id, { deal: { title: 'd', nextStep } }), ['deal', 'nextStep']],
      [crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', taskTemplates: [{ subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' } }] }] }), ['stages', 0, 'taskTemplates']],
      [crm.pipelines.create({ name: 'P', stages: STAGES, settings: { strictNextStep: true } }), ['settings', 'strictNextStep']],
      [crm.pipelines.update(pipeline.id, { settings: { strictNextStep: true } }), ['settings', 'strictNextStep']],
      [crm.pipelines.addStage(pipeline.id, { stage: { key: 'c', name: 'C', taskTemplates: [{ subject: 'x', type: 'todo', due: { amount: 0, unit: 'days' } }] } }), ['stage', 'taskTemplates']],
      [crm.pipelines.updateStage(pipeline.id, 'new', { taskTemplates: [{ subject: 'x', type: 'todo', due: { amount: 0, unit: 'days' } }] }), ['taskTemplates']],
    ];
    for (const [call, path] of cases) {
      const error = await expectCrmError(call, 'VALIDATION');
      expect(error.details.issues).toContainEqual(expect.objectContaining({ path, code: 'feature_required', message: expect.stringContaining('tasks()') }));
    }
    expect(storage.snapshot()).toEqual(before);
    // Empty template lists and strictNextStep: false need nothing.
    await crm.pipelines.create({ name: 'Q', stages: [{ key: 'a', name: 'A', taskTemplates: [] }], settings: { strictNextStep: false } });
  });

  it('with tasks, a problem in a next step is reported with the input’s other problems', async () => {
    const { crm } = await createTestCrm({ features: [tasks()] });
    await crm.pipelines.create({ name: 'Sales', stages: STAGES });
    const error = await expectCrmError(crm.deals.create({ title: '', nextStep: { subject: 'Call', dueAt: 'soon' } }), 'VALIDATION');
    expect(error.details.issues.map((i) => i.path.join('.'))).toEqual(['title', 'nextStep.dueAt']);
  });

  it('without tasks, postponing records the new date on the deal and in the event, and keeps it later', async () => {
    const { crm, clock } = await bare();
    await crm.pipelines.create({ name: 'Sales', stages: STAGES });
    const deal = await crm.deals.create({ title: 'Chairs' });
    const first = await crm.deals.postpone(deal.id, { until: '2026-01-09T10:00:00+01:00', reason: 'Holiday' });
    expect(first).toMatchObject({ postponeCount: 1, stagePostponeCount: 1, nextStepDueAt: '2026-01-09T09:00:00.000Z' });
    const [event] = (await crm.eventLog.list({ where: where.eq('type', 'deal.postponed') })).items;
    expect(event!.data).toEqual({ stageKey: 'new', until: '2026-01-09T09:00:00.000Z', reason: 'Holiday', count: 1, stageCount: 1 });
    const [visit] = await crm.deals.stageHistory(deal.id);
    expect((visit as StageVisit).postponeCount).toBe(1);
    // The next postponement must be later than the recorded date, and says where it moved from.
    const early = await expectCrmError(crm.deals.postpone(deal.id, { until: '2026-01-08T10:00:00Z' }), 'RULE_VIOLATION');
    expect(early.details.violations[0]).toMatchObject({ rule: 'postpone.notLater', data: { due: '2026-01-09T09:00:00.000Z' } });
    clock.advance(60_000);
    await crm.deals.postpone(deal.id, { until: '2026-01-12T10:00:00Z' });
    const moved = (await crm.eventLog.list({ where: where.eq('type', 'deal.postponed'), orderBy: [{ field: 'at', direction: 'desc' }] })).items[0]!;
    expect(moved.data).toMatchObject({ from: '2026-01-09T09:00:00.000Z', until: '2026-01-12T10:00:00.000Z', count: 2 });
    // A lost deal has no next step.
    const lost = await crm.deals.lose(deal.id, { reason: 'price' });
    expect(lost.nextStepDueAt).toBeUndefined();
  });

  it('with tasks, postponing without an open task creates the follow-up task at the new date', async () => {
    const { crm } = await createTestCrm({ features: [tasks()] });
    await crm.pipelines.create({ name: 'Sales', stages: STAGES });
    const deal = await crm.deals.create({ title: 'Chairs' });
    const postponed = await crm.deals.postpone(deal.id, { until: '2026-01-09T10:00:00Z' });
    const open = (await crm.tasks.list({ where: where.eq('dealId', deal.id) })).items;
    expect(open).toEqual([expect.objectContaining({ subject: 'Follow up: Chairs', type: 'call', dueAt: '2026-01-09T10:00:00.000Z', status: 'open' })]);
    expect(postponed.nextStepDueAt).toBe('2026-01-09T10:00:00.000Z');
  });

  it('a template assigned by strategy needs the assignment feature', async () => {
    const template = { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' as const }, assignee: { kind: 'strategy' as const, strategyId: 'asg_1' } };
    const { crm } = await createTestCrm({ features: [tasks()] });
    const error = await expectCrmError(crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', taskTemplates: [template] }] }), 'VALIDATION');
    expect(error.details.issues).toEqual([expect.objectContaining({ path: ['stages', 0, 'taskTemplates', 0, 'assignee'], code: 'feature_required' })]);
    const { crm: full } = await createTestCrm({ features: [tasks(), assignment()] });
    await full.assignment.createStrategy({ id: 'asg_1', name: 'rr', entity: 'deal', kind: 'roundRobin', owners: [{ userId: 'anna' }] });
    const pipeline = await full.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', taskTemplates: [template] }] });
    expect(pipeline.stages[0]!.taskTemplates[0]!.assignee).toEqual({ kind: 'strategy', strategyId: 'asg_1' });
  });
});

describe('assignment, custom fields, duplicates and observers without their feature', () => {
  it('assignWith needs the assignment feature', async () => {
    const { crm, storage } = await createTestCrm({ features: [] });
    const before = storage.snapshot();
    const error = await expectCrmError(crm.leads.create({ name: 'Ada' }, { assignWith: 'asg_1' }), 'VALIDATION');
    expect(error.details.issues).toEqual([expect.objectContaining({ path: ['assignWith'], code: 'feature_required' })]);
    expect(storage.snapshot()).toEqual(before);
  });

  it('custom values and custom query paths need the custom-fields feature', async () => {
    const { crm } = await createTestCrm({ features: [] });
    await crm.pipelines.create({ name: 'Sales', stages: STAGES });
    const error = await expectCrmError(crm.contacts.create({ name: 'Ada', custom: { tier: 'gold' } }), 'VALIDATION');
    expect(error.details.issues).toEqual([expect.objectContaining({ path: ['custom', 'tier'], code: 'unknown_field', message: expect.stringContaining('customFields()') })]);
    await expectCrmError(crm.deals.list({ where: where.eq('custom.tier', 'gold') }), 'VALIDATION');
    // Values stored by a crm with the feature stay when a crm without it changes other fields.
    const storage = createMemoryStorage();
    const withFields = await createCrm({ ...base, storage, closeStorage: false, features: [customFields()] });
    await withFields.customFields.define({ entity: 'contact', key: 'tier', label: 'Tier', type: 'text' });
    const ada = await withFields.contacts.create({ name: 'Ada', custom: { tier: 'gold' } });
    // Another seed: two id generators with one seed give the same event ids within a millisecond.
    const without = await createCrm({ ...base, random: { seed: 2 }, storage, closeStorage: false });
    expect((await without.contacts.update(ada.id, { name: 'Ada L.' })).custom).toEqual({ tier: 'gold' });
  });

  it('without duplicates, cards get no search keys and conversion links no existing company; reindex() fills the keys later', async () => {
    const storage = createMemoryStorage();
    const clock = createFakeClock();
    const options = { ...base, storage, clock, closeStorage: false } as const;
    const plain = await createCrm(options);
    const acme = await plain.companies.create({ name: 'Acme', domain: 'acme.com' });
    expect(acme.searchKeys).toEqual([]);
    const lead = await plain.leads.create({ name: 'Ann', email: 'ann@acme.com', companyName: 'Acme' });
    const { company } = await plain.leads.convert(lead.id);
    expect(company!.id).not.toBe(acme.id);
    expect(company!.domain).toBeUndefined(); // the e-mail's domain is read by the duplicates feature only

    const withDuplicates = await createCrm({ ...options, random: { seed: 2 }, features: [duplicates()] });
    expect(await withDuplicates.duplicates.find({ email: 'someone@acme.com' })).toEqual([]);
    expect(await withDuplicates.duplicates.reindex()).toEqual({ lead: 1, contact: 1, company: 2 });
    expect((await withDuplicates.companies.get(acme.id)).searchKeys).toEqual(['cname:acm', 'domain:acme.com']);
    expect((await withDuplicates.duplicates.find({ email: 'someone@acme.com' })).map((c) => c.record.id)).toContain(acme.id);
    expect(await withDuplicates.duplicates.reindex()).toEqual({ lead: 0, contact: 0, company: 0 });
    // Now conversion matches the company by domain.
    const second = await withDuplicates.leads.create({ name: 'Bob', email: 'bob@acme.com' });
    expect((await withDuplicates.leads.convert(second.id)).company!.id).toBe(acme.id);
  });

  it('task and activity observers need those features', async () => {
    const crm = await createCrm({ ...base, storage: createMemoryStorage(), features: [observers()] });
    for (const make of [() => crm.observe.agenda(), () => crm.observe.tasks(), () => crm.observe.task('task_1'), () => crm.observe.activities()]) {
      expect(make).toThrow(/needs? the (tasks|activities)\(\) feature/);
    }
    expect(() => crm.observe.deals()).not.toThrow();
  });
});
