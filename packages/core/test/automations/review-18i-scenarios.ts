import { expect } from 'vitest';
import { createMemoryStorage, isCrmError, type CrmEvent, type StorageAdapter } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { setupAutomations } from './automation-setup.js';

/**
 * The findings of review 18i that store and run, as scenarios on one database: shared by the memory test
 * (`review-18i.test.ts`) and the SQLite / PostgreSQL one (`packages/storage-sqlite/test/automation-review-18i.test.ts`).
 * `storage` opens a connection to one fresh database (called again: another connection to the same one).
 */
export type OpenStorage = () => StorageAdapter;

/** One memory database: every call returns the same adapter (two crms on it are two processes). */
export function sharedMemory(): OpenStorage {
  const storage = createMemoryStorage();
  return () => storage;
}

/** The code of a failed call, or `'ok'`. */
const codeOf = (call: Promise<unknown>) => call.then(() => 'ok', (e: unknown) => (isCrmError(e) ? e.code : 'error'));

/** Which of the hidden values a view's result shows. */
function leaks(value: unknown, hidden: readonly string[]): string[] {
  const text = JSON.stringify(value);
  return hidden.filter((h) => text.includes(h));
}

/**
 * #1: a view never receives a rule's configuration — not through a run's continuation (`plan`, the rule's
 * actions: a waiting run, a failed continuation, a manual run that waits), nor through `get` / `list`
 * (FORBIDDEN, as `define`). Every channel: `runs()`, `trigger()`, `simulate()`, `events.read`, the timeline.
 */
export async function viewSeesNoRuleConfig(storage?: OpenStorage): Promise<void> {
  const { crm, clock } = await setupAutomations({}, storage);
  const pipeline = await crm.pipelines.create({
    name: 'Big deals',
    stages: [{ key: 'new', name: 'New' }, { key: 'big', name: 'Big', entryRules: [{ type: 'field', field: 'value.amount', op: 'gt', value: 1_000_000 }] }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }],
  } as never);
  await crm.access.setPolicy({
    roles: {
      support: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['value', 'weightedValue', 'ownerId', 'tags'] } } } },
      bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' }, task: { '*': 'all' }, setting: { '*': 'all' } } },
    },
    defaultRoles: ['bot'],
  } as never);
  // Fixed values of hidden fields, before and after a wait: an owner, a tag, an amount.
  const handOver = await crm.automations.define({
    name: 'Hand over', trigger: { type: 'event', event: 'deal.created' },
    actions: [{ type: 'assignOwner', userId: 'zed' }, { type: 'addTag', tag: 'vip-secret' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'updateFields', set: { value: { amount: 999_999, currency: 'EUR' } } }],
  });
  // A continuation that fails (the stage's entry rule): the failed run keeps its plan for the retry.
  const push = await crm.automations.define({
    name: 'Push', trigger: { type: 'event', event: 'deal.created' },
    actions: [{ type: 'wait', for: { amount: 1, unit: 'hours' } }, { type: 'assignOwner', userId: 'yak' }, { type: 'advance', toStage: 'big' }],
  });
  const manual = await crm.automations.define({
    name: 'Escalate', trigger: { type: 'manual', entity: 'deal' },
    actions: [{ type: 'addTag', tag: 'manual-secret' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'assignOwner', userId: 'kim' }],
  });
  const deal = await crm.deals.create({ title: 'Secret', pipelineId: pipeline.id, value: { amount: 5_000, currency: 'EUR' } });
  await crm.automations.drain();
  clock.advance(2 * 3_600_000);
  await crm.automations.tick();
  const record = { type: 'deal' as const, id: deal.id };
  const hidden = ['zed', 'vip-secret', '999999', 'yak', 'manual-secret', 'kim'];

  // The crm itself sees the continuations (control).
  const own = (await crm.automations.runs({ record })).items;
  expect(own.map((r) => [r.ruleName, r.status]).sort()).toEqual([['Hand over', 'waiting'], ['Push', 'failed']]);
  expect(own.every((r) => r.plan && r.resumeFrom !== undefined)).toBe(true);
  expect(leaks(own, hidden).sort()).toEqual(['999999', 'vip-secret', 'yak', 'zed']);

  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  const runs = (await sue.automations.runs({ record })).items;
  expect(runs.map((r) => [r.ruleName, r.status]).sort()).toEqual([['Hand over', 'waiting'], ['Push', 'failed']]);
  expect(runs.some((r) => 'plan' in r || 'resumeFrom' in r)).toBe(false);
  expect(leaks(runs, hidden)).toEqual([]);
  // What was done and when it continues stay readable.
  expect(runs.find((r) => r.ruleId === handOver.id)!.actions.map((a) => a.type)).toEqual(['assignOwner', 'addTag', 'wait']);
  expect(runs.find((r) => r.ruleId === handOver.id)!.resumeAt).toBeDefined();

  // trigger(): a manual run that waits comes back without its plan.
  const triggered = await sue.automations.trigger(manual.id, record);
  expect(triggered?.status).toBe('waiting');
  expect(triggered && ('plan' in triggered || 'resumeFrom' in triggered)).toBe(false);
  expect(leaks(triggered, hidden)).toEqual([]);
  expect(leaks((await sue.automations.runs({ record })).items, hidden)).toEqual([]);

  // simulate(): a stored rule by id, and the event as the view reads it.
  const created = (await sue.timeline(record)).items.find((e) => e.type === 'deal.created')!;
  const sim = await sue.automations.simulate(handOver.id, created);
  expect(sim.status).toBe('waiting');
  expect(leaks(sim, hidden)).toEqual([]);

  // automation.ran events: the feed and the timeline.
  const read = (await sue.events.read({ after: 0, types: ['automation.ran'] })).events;
  expect(read.length).toBeGreaterThanOrEqual(3);
  expect(leaks(read, hidden)).toEqual([]);
  const timeline = (await sue.timeline(record)).items.filter((e: CrmEvent) => e.type === 'automation.ran');
  expect(timeline.length).toBe(read.length);
  expect(leaks(timeline, hidden)).toEqual([]);

  // Rule definitions are configuration of the crm itself, as define is: no get / list, no automation.defined event.
  expect((await sue.events.read({ after: 0, types: ['automation.defined'] })).events).toEqual([]);
  expect((await crm.events.read({ after: 0, types: ['automation.defined'] })).events.map((e) => (e.data as { rule: { name: string } }).rule.name)).toEqual(['Hand over', 'Push', 'Escalate']);
  expect(await codeOf(sue.automations.get(handOver.id))).toBe('FORBIDDEN');
  expect(await codeOf(sue.automations.list())).toBe('FORBIDDEN');
  expect(await codeOf(sue.automations.get('no-such-rule'))).toBe('FORBIDDEN');
  expect((await crm.automations.get(push.id)).actions).toHaveLength(3);
  expect((await crm.automations.list()).length).toBe(3);
  await crm.close();
}

const HOUR = 3_600_000;

/**
 * #2: a deal written with a time before the last sweep's overlap — this process's clock stepped back, with
 * hourly ticks — still fires its time rule at the next tick.
 */
export async function clockStepBack(storage?: OpenStorage): Promise<void> {
  const { crm, clock, pipeline } = await setupAutomations({}, storage);
  const rule = await crm.automations.define({ name: 'Five minutes', trigger: { type: 'timeInStage', stage: 'proposal', for: { amount: 5, unit: 'minutes' } }, actions: [{ type: 'addTag', tag: 't' }] });
  await crm.scheduler.tick();
  clock.advance(HOUR);
  await crm.scheduler.tick(); // the sweep remembered at T
  clock.set(clock.now() - HOUR); // the host's clock steps back an hour
  const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
  await crm.deals.advance(deal.id); // in the stage since T - 1h, by this clock
  clock.advance(HOUR);
  await crm.scheduler.tick(); // T again: not behind the last sweep, yet the deal's times are
  expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => [r.subjectId, r.status])).toEqual([[deal.id, 'done']]);
  expect((await crm.deals.get(deal.id)).tags).toEqual(['t']);
  await crm.close();
}

/**
 * #2: a process whose clock lags the ticking one's by more than the overlap (an hour): the deal it moves
 * into the stage fires the ticking process's rule at its next tick.
 */
export async function laggingPeer(storage: OpenStorage): Promise<void> {
  const { crm, clock, pipeline } = await setupAutomations({}, storage);
  const peer = (await createTestCrm({ storage: storage() as never, now: clock.now() - HOUR, seed: 2 })).crm;
  const rule = await crm.automations.define({ name: 'Five minutes', trigger: { type: 'timeInStage', stage: 'proposal', for: { amount: 5, unit: 'minutes' } }, actions: [{ type: 'addTag', tag: 't' }] });
  await crm.scheduler.tick();
  clock.advance(HOUR);
  await crm.scheduler.tick(); // the sweep remembered at T
  const deal = await peer.deals.create({ title: 'D', pipelineId: pipeline.id });
  await peer.deals.advance(deal.id); // stamped T - 1h by the peer's clock
  clock.advance(10 * 60_000);
  await crm.scheduler.tick();
  expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => [r.subjectId, r.status])).toEqual([[deal.id, 'done']]);
  await peer.close();
  await crm.close();
}

/** #3: conditions that can never hold or always hold by their shape: VALIDATION naming the path, nothing stored. */
export async function shapeVerdicts(storage?: OpenStorage): Promise<void> {
  const { crm } = await setupAutomations({}, storage);
  const emit = [{ type: 'emit' as const, name: 'seen' }];
  const updated = { type: 'event', event: 'deal.updated' };
  const inStage = { type: 'timeInStage', stage: 'proposal', for: { amount: 1, unit: 'days' } };
  const entered = { type: 'stageEntered', stage: 'proposal' };
  const cases: [unknown, unknown, string][] = [
    [updated, { field: 'ownerId', op: 'in', value: [] }, 'conditions.0.value: "in" takes at least one value'],
    [updated, { field: 'title', op: 'present', value: 'x' }, 'conditions.0.value: "present" takes no value'],
    [updated, { field: 'value', op: 'eq', value: 5 }, 'conditions.0.value: 5 is not a value "value" can hold: the condition would never hold'],
    [updated, { field: 'value', op: 'ne', value: 5 }, 'conditions.0.value: 5 is not a value "value" can hold: the condition would always hold'],
    [updated, { field: 'lineItems', op: 'gt', value: 5 }, 'conditions.0.value: 5 is not a value "lineItems" can hold: the condition would never hold'],
    [updated, { field: 'tags', op: 'gt', value: '2026-01-01' }, 'conditions.0.value: "2026-01-01" is not a value "tags" can hold: the condition would never hold'],
    [updated, { field: 'custom', op: 'eq', value: 'x' }, 'conditions.0.value: "x" is not a value "custom" can hold: the condition would never hold'],
    [{ type: 'fieldChanged', entity: 'deal', field: 'value' }, { field: 'trigger.to', op: 'eq', value: 5 }, 'conditions.0.value: 5 is not a value "value" can hold: the condition would never hold'],
    [updated, { field: 'id', op: 'present' }, 'conditions.0.field: every run has "id": the condition would always hold'],
    [updated, { field: 'status', op: 'present' }, 'conditions.0.field: every run has "status": the condition would always hold'],
    [updated, { field: 'trigger', op: 'present' }, 'conditions.0.field: every run has "trigger": the condition would always hold'],
    [updated, { field: 'trigger.data', op: 'present' }, 'conditions.0.field: every run has "trigger.data": the condition would always hold'],
    [inStage, { field: 'trigger.at', op: 'present' }, 'conditions.0.field: every run has "trigger.at": the condition would always hold'],
    [updated, { field: 'trigger.at', op: 'gt', value: 5 }, 'conditions.0.value: 5 is not a value "trigger.at" can hold: the condition would never hold'],
    [updated, { field: 'trigger.type', op: 'eq', value: 'deal.created' }, 'conditions.0.value: "trigger.type" is "deal.updated" on every run: the condition would never hold'],
    [updated, { field: 'trigger.type', op: 'eq', value: 'deal.updated' }, 'conditions.0.value: "trigger.type" is "deal.updated" on every run: the condition would always hold'],
    [{ type: 'manual', entity: 'deal' }, { field: 'trigger.type', op: 'ne', value: 'x' }, 'conditions.0.value: "trigger.type" is "manual" on every run: the condition would always hold'],
    [inStage, { field: 'trigger.stage', op: 'eq', value: 'proposal' }, 'conditions.0.value: "trigger.stage" is "proposal" on every run: the condition would always hold'],
    [inStage, { field: 'trigger.stage', op: 'in', value: ['new', 'negotiation'] }, 'conditions.0.value: "trigger.stage" is "proposal" on every run: the condition would never hold'],
    [entered, { field: 'trigger.to', op: 'eq', value: 'new' }, 'conditions.0.value: "trigger.to" is "proposal" on every run: the condition would never hold'],
    [{ type: 'stageLeft', stage: 'proposal' }, { field: 'trigger.from', op: 'present' }, 'conditions.0.field: "trigger.from" is "proposal" on every run: the condition would always hold'],
    [entered, { field: 'trigger.type', op: 'eq', value: 'deal.updated' }, 'conditions.0.value: "trigger.type" is "deal.created" or "deal.stageChanged" or "deal.won" or "deal.lost" or "deal.reopened" or "deal.stageReassigned" on every run: the condition would never hold'],
    [{ type: 'fieldChanged', entity: 'deal', field: 'title', to: 'Won' }, { field: 'trigger.to', op: 'ne', value: 'Won' }, 'conditions.0.value: "trigger.to" is "Won" on every run: the condition would never hold'],
  ];
  for (const [trigger, condition, message] of cases) {
    const error = await crm.automations.define({ name: 'Never', trigger, conditions: [condition], actions: emit } as never).then(() => undefined, (e: unknown) => e);
    expect(isCrmError(error, 'VALIDATION') && error.details.issues.map((i) => `${i.path.join('.')}: ${i.message}`), JSON.stringify(condition)).toEqual([message]);
  }
  // Conditions whose verdict depends on the run are accepted.
  const holdable: [unknown, unknown][] = [
    [updated, { field: 'ownerId', op: 'in', value: ['anna'] }],
    [updated, { field: 'tags', op: 'eq', value: 'vip' }],
    [updated, { field: 'value.amount', op: 'gt', value: 5 }],
    [updated, { field: 'ownerId', op: 'present' }],
    [updated, { field: 'trigger.data.changes.title', op: 'present' }],
    [updated, { field: 'trigger.at', op: 'lt', value: '2027-01-01' }],
    [entered, { field: 'trigger.type', op: 'eq', value: 'deal.won' }],
    [entered, { field: 'trigger.from', op: 'eq', value: 'new' }],
    [{ type: 'fieldChanged', entity: 'task', field: 'dueAt' }, { field: 'trigger.type', op: 'eq', value: 'task.postponed' }],
    [{ type: 'fieldChanged', entity: 'deal', field: 'title', to: 'Won' }, { field: 'trigger.from', op: 'ne', value: 'Lost' }],
  ];
  for (const [trigger, condition] of holdable) await crm.automations.define({ name: 'Holds', trigger, conditions: [condition], actions: emit } as never);
  expect((await crm.automations.list()).map((r) => r.name)).toEqual(holdable.map(() => 'Holds'));
  await crm.close();
}
