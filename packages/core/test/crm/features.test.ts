import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, type CrmFeature } from '@crmkit/core';
import { observers } from '@crmkit/core/observe';
import { reports } from '@crmkit/core/reports';
import { scheduler } from '@crmkit/core/scheduler';
import { scoring } from '@crmkit/core/scoring';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock, createTestCrm } from '@crmkit/core/testing';
import { expectCrmError } from '../helpers.js';

const base = { tenantId: 't', logger: silentLogger, random: { seed: 1 } } as const;

describe('features', () => {
  it('a crm has only the features it was given, typed and at run time', async () => {
    const plain = await createCrm({ ...base, storage: createMemoryStorage() });
    // @ts-expect-error reports are absent without the feature
    expect(plain.reports).toBeUndefined();
    expect('scheduler' in plain || 'observe' in plain || 'scoring' in plain).toBe(false);

    const full = await createCrm({ ...base, storage: createMemoryStorage(), features: [tasks(), reports(), scoring(), scheduler({ batchSize: 5 }), observers()] });
    expect(Object.keys(full)).toEqual(expect.arrayContaining(['reports', 'scoring', 'scheduler', 'observe']));
    expect(typeof full.reports.funnel).toBe('function');
    expect(typeof full.scoring.score).toBe('function');
    expect(full.scheduler.running).toBe(false);
    expect(typeof full.observe.board).toBe('function');
    await plain.close();
    await full.close();
  });

  it('builds a feature API lazily, once per crm, without touching storage', async () => {
    const storage = createMemoryStorage();
    let built = 0;
    let transactions = 0;
    const counted: CrmFeature<'probe', { n: number }> = { key: 'probe', setup: () => ({ api: () => ({ n: ++built }) }) };
    const crm = await createCrm({ ...base, storage, features: [counted] });
    const transaction = storage.transaction.bind(storage);
    storage.transaction = (mode, fn) => (transactions++, transaction(mode, fn));
    expect(built).toBe(0);
    expect(crm.probe).toBe(crm.probe);
    expect(crm.probe.n).toBe(1);
    expect(built).toBe(1);
    expect(transactions).toBe(0);
  });

  it('builds a feature API over the object it is read through: a proxy of the crm gets its own, whose calls go through the proxy', async () => {
    const crm = await createCrm({ ...base, storage: createMemoryStorage(), features: [observers()] });
    const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }] });
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    const moves: unknown[][] = [];
    // A proxy that turns deals.advance into its own call (as the sync client's command proxy does).
    const deals = new Proxy(crm.deals, { get: (t, k) => (k === 'advance' ? async (...a: unknown[]) => (moves.push(a), t.get(a[0] as string)) : (Reflect.get(t, k) as () => unknown).bind(t)) });
    const proxy = new Proxy(crm, { get: (t, k, r) => (k === 'deals' ? deals : Reflect.get(t, k, r)) });
    expect(proxy.observe).toBe(proxy.observe);
    expect(proxy.observe).not.toBe(crm.observe);
    expect(crm.observe).toBe(crm.observe);
    const board = proxy.observe.board(pipeline.id);
    board.subscribe(() => {});
    await expect.poll(() => board.getSnapshot().data).toBeDefined();
    expect(await board.move(deal.id, 'b')).toEqual({ ok: true });
    expect(moves).toEqual([[deal.id, { toStage: 'b' }]]);
    expect((await crm.deals.get(deal.id)).stageKey).toBe('a');
    // Through the crm itself, the board moves the deal.
    const own = crm.observe.board(pipeline.id);
    own.subscribe(() => {});
    await expect.poll(() => own.getSnapshot().data).toBeDefined();
    expect(await own.move(deal.id, 'b')).toEqual({ ok: true });
    expect((await crm.deals.get(deal.id)).stageKey).toBe('b');
    expect(moves).toHaveLength(1);
    await crm.close();
  });

  it('close() closes the features in reverse order, before the storage', async () => {
    const storage = createMemoryStorage();
    const order: string[] = [];
    const close = storage.close.bind(storage);
    storage.close = async () => (order.push('storage'), close());
    const feature = (key: string): CrmFeature => ({ key, setup: () => ({ api: () => ({}), close: async () => void order.push(key) }) });
    const crm = await createCrm({ ...base, storage, features: [feature('a'), feature('b')] });
    await crm.close();
    await crm.close();
    expect(order).toEqual(['b', 'a', 'storage']);
  });

  it('close() stops a running scheduler', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const crm = await createCrm({ ...base, storage: createMemoryStorage(), clock, features: [tasks(), scheduler()] });
    crm.scheduler.start();
    expect(crm.scheduler.running).toBe(true);
    await crm.close();
    expect(crm.scheduler.running).toBe(false);
  });

  it('refuses a bad feature list with VALIDATION', async () => {
    const storage = createMemoryStorage();
    const twice = await expectCrmError(createCrm({ ...base, storage, features: [reports(), reports()] }), 'VALIDATION');
    expect(twice.details.issues).toEqual([expect.objectContaining({ path: ['features', 1] })]);
    const core = await expectCrmError(createCrm({ ...base, storage, features: [{ key: 'deals', setup: () => ({ api: () => 1 }) }] }), 'VALIDATION');
    expect(core.details.issues[0]!.message).toContain('core property');
    await expectCrmError(createCrm({ ...base, storage, features: [{} as CrmFeature] }), 'VALIDATION');
    const hook = { recurrence: { checkRule: () => [], firstOccurrence: () => undefined, nextOccurrence: () => undefined } };
    const clash: CrmFeature = { key: 'other', setup: () => ({ api: () => ({}), hooks: hook }) };
    const clashing = createMemoryStorage();
    await expectCrmError(createCrm({ ...base, storage: clashing, features: [tasks(), scheduler(), clash] }), 'VALIDATION');
    // No crm came out of the call: the storage it opened is closed again.
    await expectCrmError(clashing.transaction('r', async () => undefined), 'CLOSED');
  });

  describe('recurring tasks need the scheduler feature', () => {
    it('creating or re-ruling a recurring task without it is a VALIDATION naming the feature, and writes nothing', async () => {
      const { crm, storage } = await createTestCrm({ features: [tasks()] });
      const before = storage.snapshot();
      const error = await expectCrmError(crm.tasks.create({ subject: 'Weekly', dueAt: '2026-03-02T09:00:00Z', recurrence: 'FREQ=WEEKLY' }), 'VALIDATION');
      expect(error.details.issues).toEqual([expect.objectContaining({ path: ['recurrence'], code: 'feature_required' })]);
      expect(error.message).toContain('scheduler()');
      expect(storage.snapshot()).toEqual(before);

      const task = await crm.tasks.create({ subject: 'Once', dueAt: '2026-03-02T09:00:00Z' });
      const afterCreate = storage.snapshot();
      const update = await expectCrmError(crm.tasks.update(task.id, { scope: 'following', recurrence: 'FREQ=DAILY' }), 'VALIDATION');
      expect(update.details.issues[0]).toMatchObject({ path: ['recurrence'], code: 'feature_required' });
      expect(storage.snapshot()).toEqual(afterCreate);
    });

    it('a series stored by a crm with the feature is not ended silently by one without it', async () => {
      const storage = createMemoryStorage();
      const clock = createFakeClock('2026-03-01T08:00:00.000Z');
      const options = { ...base, storage, clock, closeStorage: false } as const;
      const withFeature = await createCrm({ ...options, features: [tasks(), scheduler()] });
      const first = await withFeature.tasks.create({ subject: 'Weekly', dueAt: '2026-03-02T09:00:00Z', recurrence: 'FREQ=WEEKLY;COUNT=3' });
      const without = await createCrm({ ...options, features: [tasks()] });
      const before = storage.snapshot();
      const error = await expectCrmError(without.tasks.complete(first.id), 'RULE_VIOLATION');
      expect(error.details.violations[0]).toMatchObject({ rule: 'recurrence.featureMissing', data: { taskId: first.id } });
      await expectCrmError(without.tasks.cancel(first.id), 'RULE_VIOLATION');
      expect(storage.snapshot()).toEqual(before);

      // Ending the series on purpose needs no rule engine.
      const cancelled = await without.tasks.cancel(first.id, { series: true });
      expect(cancelled.status).toBe('cancelled');
      expect((await without.tasks.list()).items.filter((t) => t.status === 'open')).toHaveLength(0);

      // The same completion with the feature continues the series.
      const second = await withFeature.tasks.create({ subject: 'Daily', dueAt: '2026-03-02T09:00:00Z', recurrence: 'FREQ=DAILY;COUNT=2' });
      const { created } = await withFeature.tasks.complete(second.id);
      expect(created).toEqual([expect.objectContaining({ dueAt: '2026-03-03T09:00:00.000Z', recurrence: expect.objectContaining({ index: 1 }) })]);
    });
  });

  it('createTestCrm enables every feature unless told otherwise', async () => {
    const { crm } = await createTestCrm();
    expect([typeof crm.reports, typeof crm.scoring, typeof crm.scheduler, typeof crm.observe]).toEqual(['object', 'object', 'object', 'object']);
    expect([typeof crm.tasks, typeof crm.calendar, typeof crm.activities, typeof crm.assignment, typeof crm.customFields]).toEqual(['object', 'object', 'object', 'object', 'object']);
    const { crm: bare } = await createTestCrm({ features: [reports()] });
    expect(typeof bare.reports.forecast).toBe('function');
    // @ts-expect-error only the features given
    expect(bare.scheduler).toBeUndefined();
  });
});
