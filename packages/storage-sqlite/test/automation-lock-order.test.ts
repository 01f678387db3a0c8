import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, type Logger } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { fleetEngines, type Cleanups } from './support/fleet.js';
import { slowWrites } from './support/slow-writes.js';

// Review 18h #1: automation writes took the same locks in opposite orders. `disable` locked the waiting
// runs it cancelled, then the feed's counter at commit; a continuation (a `wait` ended) reserved the feed
// when its first action finished, then wrote its run row. On PostgreSQL one of them died of a deadlock:
// `disable` threw 40P01 to the caller (the rule stayed on), or the continuation did and its failure write
// logged an error. A run with two actions deadlocked the same way with a plain update of the record its
// second action writes. Now every automation write locks rows first and the feed's counter last.

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'lockorder');
afterAll(() => end());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A logger that keeps errors (the fake clock's disagreement with the database's is only warned about). */
function keptLogger(kept: string[]): Logger {
  return { debug() {}, info() {}, warn() {}, error: (message, data) => kept.push(`${message} ${String(data?.error ?? '')}`) };
}

/** Two crm instances with their own connection pools on one database: `a` runs rules, `b` is the user. */
async function pair(engine: (typeof engines)[number], slowOn: 'a' | 'b', entity: string) {
  const db = await engine.make();
  const clock = createFakeClock('2026-01-05T09:00:00.000Z');
  const slow = { on: false };
  const failures: string[] = [];
  const logged: string[] = [];
  const storage = (who: 'a' | 'b') => (who === slowOn ? slowWrites(db.storage(), entity, 2000, { slow, failures }) : slowWrites(db.storage(), '-', 0, { slow, failures }));
  const features = () => [tasks(), events(), automations({ backoff: { initialMs: 10, multiplier: 1, maxMs: 10 } })] as const;
  const a = await createCrm({ storage: storage('a'), clock, tenantId: 't', logger: keptLogger(logged), features: features() });
  const b = await createCrm({ storage: storage('b'), clock, tenantId: 't', logger: keptLogger(logged), features: features() });
  cleanups.push(() => a.close(), () => b.close());
  const pipeline = await b.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
  return { a, b, clock, slow, failures, logged, pipelineId: pipeline.id };
}

const deadlocks = (failures: readonly string[]) => failures.filter((f) => f.includes('40P01') || /deadlock/i.test(f));

describe.each(engines)('automation writes keep one lock order, on $name', { timeout: 60_000 }, (engine) => {
  // Who is slow decides who locks first: the disable's rule write (it holds the cancelled run) or the continuation's run-row write.
  it.each([
    { first: 'disable', slowOn: 'b' as const, entity: 'automationRule' },
    { first: 'continuation', slowOn: 'a' as const, entity: 'automationRun' },
  ])('disable while a waiting run continues ($first first): the rule is off, the run settled once, nothing logged', async ({ first, slowOn, entity }) => {
    const { a, b, clock, slow, failures, logged, pipelineId } = await pair(engine, slowOn, entity);
    const rule = await b.automations.define({
      name: 'Later', trigger: { type: 'event', event: 'deal.created' },
      actions: [{ type: 'wait', for: { amount: 1, unit: 'minutes' } }, { type: 'addTag', tag: 'later' }],
    });
    const deal = await b.deals.create({ title: 'D', pipelineId });
    await b.automations.drain();
    expect((await b.automations.runs({ ruleId: rule.id })).items.map((r) => r.status)).toEqual(['waiting']);
    clock.advance(120_000);
    slow.on = true;
    const disable = () => b.automations.disable(rule.id);
    const continuation = () => a.automations.tick();
    const [one, two] = first === 'disable' ? [disable, continuation] : [continuation, disable];
    const started = one();
    await sleep(500);
    const [x, y] = await Promise.allSettled([started, two()]);
    slow.on = false;
    const [disabled, continued] = first === 'disable' ? [x, y] : [y, x];
    expect(disabled).toMatchObject({ status: 'fulfilled', value: { enabled: false } });
    expect(continued.status).toBe('fulfilled');
    expect(deadlocks(failures)).toEqual([]);
    expect(logged).toEqual([]);
    // The rule is off. The run either continued before the disable committed (SQLite runs the transactions
    // one after the other) or was cancelled by it, its addTag rolled back: one consistent outcome, no half.
    expect((await b.automations.get(rule.id)).enabled).toBe(false);
    const [run] = (await b.automations.runs({ ruleId: rule.id })).items;
    const tags = (await b.deals.get(deal.id)).tags ?? [];
    const ran = (await b.events.read({ after: 0, limit: 100, types: ['automation.ran'] })).events.map((e) => (e.data as { status: string }).status);
    if (run!.status === 'done') {
      expect([tags, ran]).toEqual([['later'], ['waiting', 'done']]);
    } else {
      expect(run).toMatchObject({ status: 'cancelled', reason: 'cancelled: the rule was disabled' });
      expect([tags, ran]).toEqual([[], ['waiting', 'cancelled']]);
    }
  });

  it("a run's second action and a user's update of the record it writes: neither deadlocks", async () => {
    const { a, b, clock, slow, failures, logged } = await pair(engine, 'a', 'lead');
    const rule = await b.automations.define({
      name: 'Follow up', trigger: { type: 'event', event: 'lead.created' },
      actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' }, assignee: { kind: 'user', userId: 'anna' } } }, { type: 'addTag', tag: 'followed' }],
    });
    const lead = await b.leads.create({ name: 'L' });
    slow.on = true;
    // The run creates the task (its events took the feed's counter there, before), then writes the lead slowly.
    const drained = a.automations.drain();
    await sleep(500);
    const updated = await b.leads.update(lead.id, { name: 'L (renamed)' });
    await drained;
    slow.on = false;
    expect(updated.name).toBe('L (renamed)');
    // The run lost the race for the lead (CONFLICT: recorded, retried) or won it; either way it ends done, once.
    for (let i = 0; i < 20 && (await a.automations.runs({ ruleId: rule.id })).items[0]?.status !== 'done'; i++) {
      clock.advance(1000); // past the retry's backoff
      await a.automations.drain();
    }
    expect(deadlocks(failures)).toEqual([]);
    expect(logged).toEqual([]);
    expect((await a.automations.runs({ ruleId: rule.id })).items.map((r) => r.status)).toEqual(['done']);
    expect(await b.leads.get(lead.id)).toMatchObject({ name: 'L (renamed)', tags: ['followed'] });
    expect((await b.tasks.list({ limit: 10 })).items.map((t) => t.subject)).toEqual(['Call']);
  });
});
