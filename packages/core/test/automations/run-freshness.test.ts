import { describe, expect, it } from 'vitest';
import { createMemoryStorage } from '@crmkit/core';
import type { StorageAdapter, StorageTx } from '@crmkit/core/storage';
import { createTestCrm } from '@crmkit/core/testing';
import { setupAutomations } from './automation-setup.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Review 18d #1: a sweep's candidates are read before its runs; each run tests its trigger again in
// its own transaction, on the record as it is then, and needs the same key (stage visit, due time).
describe('time runs test their trigger again in their transaction', () => {
  it('timeInStage: a deal moved on while the tick ran another deal gets no run', async () => {
    const { crm, clock } = await setupAutomations();
    const long = await crm.pipelines.create({ name: 'Long', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'negotiation', name: 'Negotiation' }, { key: 'contract', name: 'Contract' }, { key: 'won', name: 'Won', kind: 'won' }] });
    const rule = await crm.automations.define({ name: 'Stuck', trigger: { type: 'timeInStage', stage: 'proposal', pipelineId: long.id, for: { amount: 1, unit: 'days' } }, actions: [{ type: 'advance' }] });
    const a = await crm.deals.create({ title: 'A', pipelineId: long.id });
    await crm.deals.advance(a.id);
    clock.advance(60_000);
    const b = await crm.deals.create({ title: 'B', pipelineId: long.id });
    await crm.deals.advance(b.id);
    const pending: Promise<unknown>[] = [];
    crm.on('automation.ran' as never, (e: { subjectId: string }) => {
      if (e.subjectId === a.id && pending.length === 0) pending.push(crm.deals.advance(b.id));
    });
    clock.advance(2 * DAY);
    const { runs } = await crm.automations.tick();
    await Promise.all(pending);
    expect(runs).toBe(1);
    const log = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(log.map((r) => [r.subjectId, r.status])).toEqual([[a.id, 'done']]);
    expect((await crm.deals.get(b.id)).stageKey).toBe('negotiation');
  });

  it('taskDue: a task completed or postponed while the tick ran another task gets no run', async () => {
    const { crm, clock } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'Soon', trigger: { type: 'taskDue', before: { amount: 2, unit: 'hours' } }, actions: [{ type: 'emit', name: 'soon' }] });
    const first = await crm.tasks.create({ subject: 'first', type: 'call', dueAt: new Date(clock.now() + 3 * HOUR).toISOString() });
    const done = await crm.tasks.create({ subject: 'done', type: 'call', dueAt: new Date(clock.now() + 3 * HOUR + 60_000).toISOString() });
    const later = await crm.tasks.create({ subject: 'later', type: 'call', dueAt: new Date(clock.now() + 3 * HOUR + 120_000).toISOString() });
    const pending: Promise<unknown>[] = [];
    crm.on('automation.ran' as never, (e: { subjectId: string }) => {
      if (e.subjectId !== first.id || pending.length) return;
      pending.push(crm.tasks.complete(done.id), crm.tasks.postpone(later.id, { until: new Date(clock.now() + 2 * DAY).toISOString() }));
    });
    clock.advance(2 * HOUR);
    expect((await crm.automations.tick()).runs).toBe(1);
    await Promise.all(pending);
    const log = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(log.map((r) => [r.subjectId, r.status])).toEqual([[first.id, 'done']]);
  });

  it('a failed time run retried after its deal left the stage is closed as skipped (triggerNoLongerHolds)', async () => {
    const { crm, clock } = await setupAutomations();
    const gated = await crm.pipelines.create({ name: 'Gated', stages: [{ key: 'new', name: 'New' }, { key: 'check', name: 'Check', entryRules: [{ type: 'hasContact' }] }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'timeInStage', stage: 'new', pipelineId: gated.id, for: { amount: 1, unit: 'hours' } }, actions: [{ type: 'advance' }] });
    const deal = await crm.deals.create({ title: 'D', pipelineId: gated.id });
    clock.advance(2 * HOUR);
    await crm.automations.tick();
    const [failed] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect([failed!.status, failed!.error?.code]).toEqual(['failed', 'RULE_VIOLATION']);
    await crm.deals.lose(deal.id, { reason: 'price' });
    clock.advance(HOUR);
    await crm.automations.drain();
    const [closed] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect([closed!.status, closed!.reason, closed!.resumeAt]).toEqual(['skipped', 'triggerNoLongerHolds', undefined]);
  });
});

// Review 18d #2: an action's CONFLICT in a continuation is the run's failure (recorded, backed off, parked).
describe('a continuation failing with CONFLICT', () => {
  it('is recorded as failed, retried with backoff and parked — never left waiting', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    await crm.deals.create({ title: 'holder', pipelineId: pipeline.id, externalRefs: [{ system: 'erp', id: 'X' }] });
    const rule = await crm.automations.define({ name: 'Ref', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'title', op: 'eq', value: 'T' }],
      actions: [{ type: 'wait', for: { amount: 1, unit: 'hours' } }, { type: 'updateFields', set: { externalRefs: [{ system: 'erp', id: 'X' }] } }] });
    const deal = await crm.deals.create({ title: 'T', pipelineId: pipeline.id });
    await crm.automations.drain();
    clock.advance(2 * HOUR);
    await crm.scheduler.tick();
    const [first] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect([first!.status, first!.attempts, first!.error?.code, first!.resumeAt! > new Date(clock.now()).toISOString()]).toEqual(['failed', 1, 'CONFLICT', true]);
    for (let i = 0; i < 4; i++) {
      clock.advance(2 * HOUR);
      await crm.scheduler.tick();
      await crm.automations.drain();
    }
    const [parked] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect([parked!.status, parked!.attempts, parked!.resumeAt, parked!.resumeFrom]).toEqual(['failed', 3, undefined, 1]);
    expect((await crm.deals.get(deal.id)).externalRefs ?? []).toEqual([]);
    // Parked: discard reaches it.
    expect(await crm.automations.discard(rule.id, [parked!.triggerKey])).toBe(1);
  });
});

// Review 18d #3: a run counts once in its rule's rate limit — when it started; a wait ending does not count it again.
describe('rate limits and waits', () => {
  it('runs resumed from a wait do not use up the window of new runs', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'Nudge', trigger: { type: 'event', event: 'deal.created' }, rateLimit: { max: 2, perMinutes: 60 },
      actions: [{ type: 'addTag', tag: 'seen' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'addTag', tag: 'nudged' }] });
    await crm.deals.create({ title: 'a', pipelineId: pipeline.id });
    await crm.deals.create({ title: 'b', pipelineId: pipeline.id });
    await crm.automations.drain();
    clock.advance(DAY);
    await crm.scheduler.tick();
    clock.advance(5 * 60_000);
    const c = await crm.deals.create({ title: 'c', pipelineId: pipeline.id });
    const d = await crm.deals.create({ title: 'd', pipelineId: pipeline.id });
    const e = await crm.deals.create({ title: 'e', pipelineId: pipeline.id });
    await crm.automations.drain();
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    const statusOf = (id: string) => runs.filter((r) => r.subjectId === id).map((r) => [r.status, r.reason?.split(':')[0]]);
    expect(runs.filter((r) => r.status === 'done').length).toBe(2);
    expect([statusOf(c.id), statusOf(d.id), statusOf(e.id)]).toEqual([[['waiting', undefined]], [['waiting', undefined]], [['skipped', 'rateLimited']]]);
    // The continuations keep when their run started.
    expect(runs.filter((r) => r.status === 'done').map((r) => r.ranAt)).toEqual(['2026-01-05T09:00:00.000Z', '2026-01-05T09:00:00.000Z']);
  });
});

// Review 18d #4: a rule's conditions see what earlier rules on the same event wrote.
describe('conditions of later rules on one event', () => {
  it('test the record as the earlier rule left it', async () => {
    const { crm, pipeline } = await setupAutomations();
    await crm.automations.define({ name: 'Mark hot', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'title', op: 'eq', value: 'a' }], actions: [{ type: 'addTag', tag: 'hot' }] });
    const second = await crm.automations.define({ name: 'Hot → call', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'tags', op: 'eq', value: 'hot' }], actions: [{ type: 'emit', name: 'callHot' }] });
    await crm.deals.create({ title: 'a', pipelineId: pipeline.id });
    await crm.deals.create({ title: 'b', pipelineId: pipeline.id });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: second.id })).items.map((r) => r.status)).toEqual(['done']);
  });
});

// Review 18d #7: the run log keeps the event that started a run through its wait and its retries.
describe('eventId through waits', () => {
  it('stays on continued and parked runs, and replay takes it', async () => {
    const { crm, clock } = await setupAutomations();
    const gated = await crm.pipelines.create({ name: 'Gated', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B', entryRules: [{ type: 'hasContact' }] }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const ok = await crm.automations.define({ name: 'Ok', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'wait', for: { amount: 1, unit: 'hours' } }, { type: 'addTag', tag: 'later' }] });
    const bad = await crm.automations.define({ name: 'Bad', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'wait', for: { amount: 1, unit: 'hours' } }, { type: 'advance' }] });
    const deal = await crm.deals.create({ title: 'X', pipelineId: gated.id });
    await crm.automations.drain();
    const [created] = (await crm.timeline({ type: 'deal', id: deal.id })).items.filter((e) => e.type === 'deal.created');
    for (let i = 0; i < 6; i++) {
      clock.advance(HOUR);
      await crm.scheduler.tick();
      await crm.automations.drain();
    }
    const [done] = (await crm.automations.runs({ ruleId: ok.id })).items;
    const [parked] = (await crm.automations.runs({ ruleId: bad.id })).items;
    expect([done!.status, done!.eventId]).toEqual(['done', created!.id]);
    expect([parked!.status, parked!.resumeAt, parked!.eventId]).toEqual(['failed', undefined, created!.id]);
    expect(await crm.automations.replay(bad.id, [parked!.eventId!])).toBe(1);
  });
});

// Review 18d #8: an edited trigger starts from the edit, as a new rule would.
describe('editing a rule\'s trigger', () => {
  it('never runs the new trigger on events written before the edit', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'R', trigger: { type: 'event', event: 'deal.won' }, actions: [{ type: 'addTag', tag: 'x' }] });
    await crm.automations.drain();
    for (let i = 0; i < 3; i++) await crm.deals.create({ title: `old ${i}`, pipelineId: pipeline.id });
    clock.advance(HOUR);
    await crm.automations.update(rule.id, { trigger: { type: 'event', event: 'deal.created' } });
    const fresh = await crm.deals.create({ title: 'new', pipelineId: pipeline.id });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.subjectId)).toEqual([fresh.id]);
    // An edit that keeps the trigger keeps its place: the events since it was defined are still its own.
    const { since } = await crm.automations.get(rule.id);
    await crm.deals.create({ title: 'more', pipelineId: pipeline.id });
    await crm.automations.update(rule.id, { name: 'R2' });
    expect((await crm.automations.get(rule.id)).since).toBe(since);
  });
});

// Review 18d #5: the taskDue query window follows the tenant's calendar (sparse working weeks, closures).
describe('taskDue in business days on a sparse calendar', () => {
  it('fires on the tick simulate says it should', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    await crm.calendar.set({ workingDays: [1] }); // Mondays only
    const deal = await crm.deals.create({ title: 'd', pipelineId: pipeline.id });
    const rule = await crm.automations.define({ name: 'Early', trigger: { type: 'taskDue', before: { amount: 5, unit: 'businessDays' } }, actions: [{ type: 'emit', name: 'soon' }] });
    const task = await crm.tasks.create({ subject: 'x', type: 'call', dueAt: '2026-02-09T09:00:00.000Z', dealId: deal.id });
    clock.advance(HOUR); // Mon 2026-01-05 10:00: Feb 9 minus five Mondays is Jan 5 09:00
    const sim = await crm.automations.simulate(rule.id, { type: 'task.created', subjectType: 'task', subjectId: task.id, data: {} } as never);
    expect(sim.matched).toBe(true);
    expect((await crm.automations.tick()).runs).toBe(1);
  });

  it('reaches a task due after a holiday closure', async () => {
    const { crm, clock } = await setupAutomations();
    const closure = Array.from({ length: 21 }, (_, i) => new Date(Date.parse('2026-01-06') + i * DAY).toISOString().slice(0, 10));
    await crm.calendar.set({ holidays: closure }); // Jan 6 – Jan 26 closed
    const rule = await crm.automations.define({ name: 'Early', trigger: { type: 'taskDue', before: { amount: 1, unit: 'businessDays' } }, actions: [{ type: 'emit', name: 'soon' }] });
    const task = await crm.tasks.create({ subject: 'x', type: 'call', dueAt: '2026-01-27T10:00:00.000Z' });
    clock.advance(2 * HOUR); // Mon 2026-01-05 11:00: Tue Jan 27 minus one business day is Jan 5 10:00
    expect((await crm.automations.tick()).runs).toBe(1);
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.subjectId)).toEqual([task.id]);
  });
});

/** A memory storage that counts the rows of each entity its queries return. */
function counted(reads: Map<string, number>): StorageAdapter {
  const inner = createMemoryStorage();
  const wrapTx = (tx: StorageTx): StorageTx =>
    new Proxy(tx, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (key !== 'query') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (entity: string, ...rest: unknown[]) => {
          const result = await (value as (...a: unknown[]) => Promise<{ rows: unknown[] }>).apply(target, [entity, ...rest]);
          reads.set(entity, (reads.get(entity) ?? 0) + result.rows.length);
          return result;
        };
      },
    });
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'transaction') return (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(wrapTx(tx)));
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// Review 18d #9: a tick with nothing to do must not read again every record a time rule ran for.
describe('time-rule sweeps read what may have changed', () => {
  it('timeInStage: an idle tick reads no deal that ran; new, changed and late records still fire', async () => {
    const reads = new Map<string, number>();
    const { crm, clock } = await createTestCrm({ storage: counted(reads) as never });
    const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const rule = await crm.automations.define({ name: 'Old', trigger: { type: 'timeInStage', stage: 'new', for: { amount: 1, unit: 'hours' } }, conditions: [{ field: 'title', op: 'ne', value: 'hold' }], actions: [{ type: 'emit', name: 'old' }] });
    for (let i = 0; i < 120; i++) await crm.deals.create({ title: `D${i}`, pipelineId: sales.id });
    clock.advance(60_000);
    const held = await crm.deals.create({ title: 'hold', pipelineId: sales.id });
    clock.advance(29 * 60_000);
    const late = await crm.deals.create({ title: 'late', pipelineId: sales.id });
    clock.advance(45 * 60_000);
    expect((await crm.automations.tick()).runs).toBe(120);
    clock.advance(60 * 60_000);
    reads.clear();
    // `late` fires (its hour came since); the 120 that ran are not read again. The one held back by its
    // conditions is, with those that entered after it (review 18e #4: conditions may come to hold without a write).
    expect((await crm.automations.tick()).runs).toBe(1);
    expect(reads.get('deal') ?? 0).toBe(2);
    clock.advance(60_000);
    reads.clear();
    expect((await crm.automations.tick()).runs).toBe(0);
    expect(reads.get('deal') ?? 0).toBe(2);
    // Changed since: read again, and it fires once its conditions hold.
    await crm.deals.update(held.id, { title: 'go' });
    clock.advance(60_000);
    expect((await crm.automations.tick()).runs).toBe(1);
    const ran = (await crm.automations.runs({ ruleId: rule.id, limit: 200 })).items;
    expect(new Set(ran.map((r) => r.subjectId)).size).toBe(122);
    expect(ran.some((r) => r.subjectId === late.id) && ran.some((r) => r.subjectId === held.id)).toBe(true);
  });

  it('taskDue: an idle tick reads no task that ran; tasks whose lead time comes later still fire', async () => {
    const reads = new Map<string, number>();
    const { crm, clock } = await createTestCrm({ storage: counted(reads) as never });
    await crm.automations.define({ name: 'Soon', trigger: { type: 'taskDue', before: { amount: 2, unit: 'businessDays' } }, actions: [{ type: 'emit', name: 'soon' }] });
    // Mon 2026-01-05 09:00: due Tue–Wed are within two business days, Friday's not yet.
    for (let i = 0; i < 50; i++) await crm.tasks.create({ subject: `T${i}`, type: 'call', dueAt: '2026-01-07T08:00:00.000Z' });
    const friday = await crm.tasks.create({ subject: 'Fri', type: 'call', dueAt: '2026-01-09T10:00:00.000Z' });
    clock.advance(60_000);
    expect((await crm.automations.tick()).runs).toBe(50);
    // Records written in the last 10 minutes before a sweep are read again by the next (transactions still open, clocks).
    clock.advance(20 * 60_000);
    expect((await crm.automations.tick()).runs).toBe(0);
    clock.advance(60_000);
    reads.clear();
    expect((await crm.automations.tick()).runs).toBe(0);
    expect(reads.get('task') ?? 0).toBeLessThanOrEqual(1);
    clock.advance(2 * DAY + HOUR); // Wed 10:22: Friday 10:00 minus two business days has passed
    expect((await crm.automations.tick()).runs).toBe(1);
    expect((await crm.automations.runs({ record: { type: 'task', id: friday.id } })).items.map((r) => r.status)).toEqual(['done']);
  });
});
