import { describe, expect, it } from 'vitest';
import { createCrm, isCrmError, where, type CrmEvent } from '@crmkit/core';
import { setupAutomations } from './automation-setup.js';
import { automations } from '@crmkit/core/automations';
import { tasks } from '@crmkit/core/tasks';
import { events } from '@crmkit/core/feed';

const setup = setupAutomations;

async function code(promise: Promise<unknown>): Promise<{ code: string; messages: string[] }> {
  try {
    await promise;
  } catch (error) {
    if (isCrmError(error)) {
      const issues = (error.details as { issues?: { message: string }[] }).issues ?? [];
      return { code: error.code, messages: issues.map((i) => i.message) };
    }
    throw error;
  }
  throw new Error('expected a CrmError');
}

describe('triggers', () => {
  it('stageEntered: a call task for the owner in two business days, once, on the timeline', async () => {
    const { crm, pipeline } = await setup();
    const rule = await crm.automations.define({
      name: 'Call after proposal',
      trigger: { type: 'stageEntered', stage: 'proposal' },
      actions: [{ type: 'createTask', task: { subject: 'Call about the proposal', type: 'call', due: { amount: 2, unit: 'businessDays' } } }],
    });
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 1000, currency: 'EUR' } });
    await crm.deals.advance(deal.id, { toStage: 'proposal' });
    expect((await crm.automations.drain()).handled).toBeGreaterThan(0);
    await crm.automations.drain();
    const { items: made } = await crm.tasks.list({ where: where.eq('dealId', deal.id) });
    expect(made.map((t) => [t.subject, t.ownerId])).toEqual([['Call about the proposal', 'anna']]);
    // 2026-01-05 is a Monday: two business days later is Wednesday.
    expect(made[0]!.dueAt!.slice(0, 10)).toBe('2026-01-07');
    const { items: runs } = await crm.automations.runs({ ruleId: rule.id });
    expect(runs.map((r) => [r.status, r.revision, r.actions.map((a) => a.type)])).toEqual([['done', 1, ['createTask']]]);
    const timeline = await crm.timeline({ type: 'deal', id: deal.id });
    expect(timeline.items.filter((e) => e.type === ('automation.ran' as never)).length).toBe(1);
    // The task was created by the service principal, and its event carries the run as its cause.
    const created = timeline.items.find((e) => e.type === 'task.created')!;
    expect(created.actorId).toBe('automation');
    expect((created as CrmEvent & { cause?: { runId: string } }).cause?.runId).toBe(runs[0]!.id);
  });

  it('stageLeft and fieldChanged (from → to) with conditions of the funnel language', async () => {
    const { crm, pipeline } = await setup();
    await crm.automations.define({ name: 'Left new', trigger: { type: 'stageLeft', stage: 'new' }, actions: [{ type: 'addTag', tag: 'moving' }] });
    await crm.automations.define({
      name: 'Big owner change',
      trigger: { type: 'fieldChanged', entity: 'deal', field: 'ownerId', to: 'ben' },
      conditions: [{ field: 'value.amount', op: 'gte', value: 500 }, { field: 'trigger.from', op: 'eq', value: 'anna' }],
      actions: [{ type: 'logActivity', activity: { kind: 'note', body: 'Handed over' } }],
    });
    const small = await crm.deals.create({ title: 'Small', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 100, currency: 'EUR' } });
    const big = await crm.deals.create({ title: 'Big', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 900, currency: 'EUR' } });
    await crm.deals.update(small.id, { ownerId: 'ben' });
    await crm.deals.update(big.id, { ownerId: 'ben' });
    await crm.deals.advance(big.id);
    await crm.automations.drain();
    expect((await crm.deals.get(big.id)).tags).toEqual(['moving']);
    expect((await crm.deals.get(small.id)).tags).toEqual([]);
    const notes = await crm.activities.list({ where: where.eq('dealId', big.id) });
    expect(notes.items.map((a) => a.body)).toEqual(['Handed over']);
    expect((await crm.activities.list({ where: where.eq('dealId', small.id) })).items).toEqual([]);
  });

  it('event: a deal lost for price gets a follow-up in 90 days (trigger.data)', async () => {
    const { crm, pipeline } = await setup();
    await crm.automations.define({
      name: 'Lost on price',
      trigger: { type: 'event', event: 'deal.lost' },
      conditions: [{ field: 'trigger.data.reason', op: 'eq', value: 'price' }],
      actions: [{ type: 'createTask', task: { subject: 'Follow up on price', type: 'call', due: { amount: 90, unit: 'days' } } }],
    });
    const a = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'anna' });
    const b = await crm.deals.create({ title: 'B', pipelineId: pipeline.id, ownerId: 'anna' });
    await crm.deals.lose(a.id, { reason: 'price' });
    await crm.deals.lose(b.id, { reason: 'timing' });
    await crm.automations.drain();
    const open = await crm.tasks.list({ where: where.eq('subject', 'Follow up on price') });
    expect(open.items.map((t) => [t.dealId, t.dueAt!.slice(0, 10)])).toEqual([[a.id, '2026-04-05']]);
  });

  it('timeInStage: 14 days in negotiation without an activity, evaluated by the scheduler tick', async () => {
    const { crm, clock, pipeline } = await setup();
    await crm.automations.define({
      name: 'Stuck in negotiation',
      trigger: { type: 'timeInStage', stage: 'negotiation', for: { amount: 14, unit: 'days' }, withoutActivity: true },
      actions: [{ type: 'emit', name: 'notifyHeadOfSales' }],
    });
    const quiet = await crm.deals.create({ title: 'Quiet', pipelineId: pipeline.id, stageKey: 'negotiation', ownerId: 'anna' });
    const busy = await crm.deals.create({ title: 'Busy', pipelineId: pipeline.id, stageKey: 'negotiation', ownerId: 'anna' });
    const notified: string[] = [];
    crm.on('*', (e) => {
      if (e.type === ('custom.notifyHeadOfSales' as never)) notified.push(e.subjectId);
    });
    clock.advance(5 * 86_400_000);
    await crm.activities.log({ kind: 'call', dealId: busy.id });
    clock.advance(8 * 86_400_000);
    expect((await crm.scheduler.tick()).automations).toBe(0);
    clock.advance(86_400_000);
    expect((await crm.scheduler.tick()).automations).toBe(1);
    expect((await crm.scheduler.tick()).automations).toBe(0); // once per stage visit
    expect(notified).toEqual([quiet.id]);
  });

  it('taskDue: 3 days before a task is due', async () => {
    const { crm, clock } = await setup();
    await crm.automations.define({ name: 'Remind early', trigger: { type: 'taskDue', before: { amount: 3, unit: 'days' } }, actions: [{ type: 'emit', name: 'dueSoon' }] });
    const task = await crm.tasks.create({ subject: 'Send contract', dueAt: '2026-01-15T09:00:00.000Z' });
    await crm.automations.tick();
    expect((await crm.automations.runs()).items).toEqual([]);
    clock.set('2026-01-12T09:00:00.000Z');
    expect((await crm.automations.tick()).runs).toBe(1);
    expect((await crm.automations.tick()).runs).toBe(0);
    const { items } = await crm.automations.runs({ record: { type: 'task', id: task.id } });
    expect(items.map((r) => [r.triggerType, r.status])).toEqual([['taskDue', 'done']]);
  });

  it('manual: a UI button runs a rule for one record', async () => {
    const { crm, pipeline } = await setup();
    const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'advance' }, { type: 'addTag', tag: 'pushed' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    const run = await crm.automations.trigger(rule.id, { type: 'deal', id: deal.id });
    expect(run?.status).toBe('done');
    const after = await crm.deals.get(deal.id);
    expect([after.stageKey, after.tags]).toEqual(['proposal', ['pushed']]);
    expect((await code(crm.automations.trigger(rule.id, { type: 'lead', id: deal.id }))).code).toBe('NOT_FOUND');
  });
});

describe('actions', () => {
  it('web lead: round-robin owner and a welcome e-mail through the host messenger (once)', async () => {
    const { crm, messenger } = await setup();
    const strategy = await crm.assignment.createStrategy({ name: 'Web', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'anna' }, { userId: 'ben' }] });
    await crm.automations.define({
      name: 'Web lead',
      trigger: { type: 'event', event: 'lead.created' },
      conditions: [{ field: 'source', op: 'eq', value: 'web' }],
      actions: [{ type: 'assignOwner', strategyId: strategy.id }, { type: 'sendMessage', channel: 'email', template: 'welcome' }],
    });
    const a = await crm.leads.create({ name: 'Ada', email: 'ada@example.com', source: 'web' });
    const b = await crm.leads.create({ name: 'Bob', email: 'bob@example.com', source: 'web' });
    await crm.leads.create({ name: 'Cy', source: 'phone' });
    await crm.automations.drain();
    await crm.automations.drain();
    expect([(await crm.leads.get(a.id)).ownerId, (await crm.leads.get(b.id)).ownerId].sort()).toEqual(['anna', 'ben']);
    expect(messenger.sent.map((m) => [m.template, m.record.id])).toEqual([['welcome', a.id], ['welcome', b.id]]);
  });

  it('updateFields, assignOwner (user), removeTag, lose, wait then continue', async () => {
    const { crm, clock, pipeline } = await setup();
    await crm.automations.define({
      name: 'Proposal follow-up',
      trigger: { type: 'stageEntered', stage: 'proposal' },
      actions: [
        { type: 'updateFields', set: { expectedCloseDate: '2026-02-01' } },
        { type: 'assignOwner', userId: 'carl' },
        { type: 'removeTag', tag: 'cold' },
        { type: 'wait', for: { amount: 1, unit: 'days' } },
        { type: 'lose', reason: 'no-response' },
      ],
    });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'anna', tags: ['cold', 'eu'] });
    await crm.deals.advance(deal.id);
    await crm.automations.drain();
    let now = await crm.deals.get(deal.id);
    expect([now.expectedCloseDate, now.ownerId, now.tags, now.status]).toEqual(['2026-02-01', 'carl', ['eu'], 'open']);
    const [waiting] = (await crm.automations.runs()).items;
    expect([waiting!.status, waiting!.resumeAt]).toEqual(['waiting', '2026-01-06T09:00:00.000Z']);
    clock.advance(86_400_000);
    expect((await crm.scheduler.tick()).automations).toBe(1);
    now = await crm.deals.get(deal.id);
    expect([now.status, now.lostReason]).toEqual(['lost', 'no-response']);
    const [done] = (await crm.automations.runs()).items;
    expect([done!.status, done!.actions.map((a) => a.type)]).toEqual(['done', ['updateFields', 'assignOwner', 'removeTag', 'wait', 'lose']]);
    expect((await crm.scheduler.tick()).automations).toBe(0);
    const entries = (await crm.timeline({ type: 'deal', id: deal.id })).items.filter((e) => e.type === ('automation.ran' as never));
    expect(entries.map((e) => (e.data as { status: string }).status)).toEqual(['done', 'waiting']);
  });

  it('advance goes through the funnel: a stage rule that blocks it fails the run, retried then parked; other rules go on', async () => {
    const { crm, clock } = await setup();
    const pipeline = await crm.pipelines.create({
      name: 'Strict',
      stages: [{ key: 'new', name: 'New' }, { key: 'qualified', name: 'Qualified', entryRules: [{ type: 'hasContact' }] }, { key: 'won', name: 'Won', kind: 'won' }],
    });
    const push = await crm.automations.define({ name: 'Push', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'advance' }] });
    await crm.automations.define({ name: 'Tag', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'seen' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    for (let i = 0; i < 4; i++) {
      await crm.automations.drain();
      clock.advance(1000);
    }
    expect((await crm.deals.get(deal.id)).tags).toEqual(['seen']);
    expect((await crm.deals.get(deal.id)).stageKey).toBe('new');
    const [failed] = (await crm.automations.runs({ ruleId: push.id })).items;
    expect([failed!.status, failed!.error?.code, failed!.attempts]).toEqual(['failed', 'RULE_VIOLATION', 3]);
    // Parked: failed with no retry left; the run log names the event.
    const parked = await crm.automations.runs({ ruleId: push.id, status: 'failed' });
    expect(parked.items.map((p) => [p.subjectId, p.resumeAt])).toEqual([[deal.id, undefined]]);
    // Fixed (the deal gets its contact): the parked run is replayed and replaces the failed entry.
    const ada = await crm.contacts.create({ name: 'Ada' });
    await crm.deals.update(deal.id, { contactId: ada.id });
    expect(await crm.automations.replay(push.id, [parked.items[0]!.eventId!])).toBe(1);
    await crm.automations.drain();
    expect((await crm.deals.get(deal.id)).stageKey).toBe('qualified');
    const [again] = (await crm.automations.runs({ ruleId: push.id })).items;
    expect([again!.id, again!.status]).toEqual([failed!.id, 'done']);
  });
});

describe('execution', () => {
  it('each (rule, event) runs once across two crm instances on one storage', async () => {
    const { crm, storage, clock, pipeline } = await setup();
    const other = await createCrm({ storage, clock, tenantId: 'test', closeStorage: false, features: [tasks(), events(), automations()] });
    await crm.automations.define({ name: 'Tag new deals', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'new' }, { type: 'createTask', task: { subject: 'Qualify', type: 'todo', due: { amount: 1, unit: 'hours' } } }] });
    for (let i = 0; i < 10; i++) await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id });
    await Promise.all([crm.automations.drain(), other.automations.drain(), crm.automations.drain()]);
    await other.automations.drain();
    expect((await crm.automations.runs({ limit: 100 })).items.length).toBe(10);
    expect((await crm.tasks.list({ where: where.eq('subject', 'Qualify'), limit: 100 })).items.length).toBe(10);
    await other.close();
  });

  it('depth limit: events caused by automation carry the run; beyond maxDepth rules are skipped', async () => {
    const { crm, pipeline } = await setup({ maxDepth: 0 });
    await crm.automations.define({ name: 'Task on deal', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' } } }] });
    const second = await crm.automations.define({ name: 'On task', trigger: { type: 'event', event: 'task.created' }, actions: [{ type: 'emit', name: 'taskMade' }] });
    await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.automations.drain();
    await crm.automations.drain();
    const [run] = (await crm.automations.runs({ ruleId: second.id })).items;
    expect([run!.status, run!.depth, run!.reason?.split(':')[0]]).toEqual(['skipped', 1, 'depthLimit']);
  });

  it('rate limit per rule: further triggers are skipped and logged', async () => {
    const { crm, pipeline } = await setup();
    const rule = await crm.automations.define({ name: 'Limited', trigger: { type: 'event', event: 'deal.created' }, rateLimit: { max: 2, perMinutes: 60 }, actions: [{ type: 'addTag', tag: 'x' }] });
    for (let i = 0; i < 4; i++) await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id });
    await crm.automations.drain();
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => r.status).sort()).toEqual(['done', 'done', 'skipped', 'skipped']);
  });

  it('versioned: an edit makes a new revision; runs keep the revision they ran', async () => {
    const { crm, pipeline } = await setup();
    const rule = await crm.automations.define({ name: 'Tag', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'v1' }] });
    await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.automations.drain();
    const edited = await crm.automations.define({ id: rule.id, name: 'Tag', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'v2' }] });
    expect(edited.revision).toBe(2);
    await crm.deals.create({ title: 'B', pipelineId: pipeline.id });
    await crm.automations.drain();
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => r.revision).sort()).toEqual([1, 2]);
    await crm.automations.disable(rule.id);
    await crm.deals.create({ title: 'C', pipelineId: pipeline.id });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.length).toBe(2);
    expect((await crm.automations.list()).map((r) => [r.enabled, r.revision])).toEqual([[false, 2]]);
    // Switched on again, it starts from now: the deal created while it was off does not run it.
    await crm.automations.enable(rule.id);
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.length).toBe(2);
    await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.length).toBe(3);
  });

  it('simulate: what would happen, writing nothing', async () => {
    const { crm, pipeline } = await setup();
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'anna' });
    const moved = await crm.deals.advance(deal.id);
    const event = (await crm.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.type === 'deal.stageChanged')!;
    const before = await crm.events.head();
    const sim = await crm.automations.simulate(
      { name: 'Sim', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' } } }, { type: 'addTag', tag: 'hot' }] },
      event,
    );
    expect([sim.matched, sim.status, sim.actions.map((a) => a.type)]).toEqual([true, 'done', ['createTask', 'addTag']]);
    expect(sim.events.map((e) => e.type)).toEqual(['task.created', 'deal.updated', 'automation.ran']);
    expect(await crm.events.head()).toBe(before);
    expect((await crm.deals.get(deal.id)).version).toBe(moved.version);
    expect((await crm.tasks.list({ where: where.eq('subject', 'Call') })).items).toEqual([]);
    const miss = await crm.automations.simulate({ name: 'Sim', trigger: { type: 'stageEntered', stage: 'won' }, actions: [{ type: 'addTag', tag: 'x' }] }, event);
    expect(miss.matched).toBe(false);
  });

  it('actions run as the service principal, within its policy', async () => {
    const { crm, pipeline } = await setup({ servicePrincipal: { userId: 'bot', roles: ['bot'] } });
    await crm.access.setPolicy({ roles: { bot: { grants: { deal: { read: 'own', update: 'own' }, pipeline: { read: 'all' } } } } });
    await crm.automations.define({ name: 'Tag', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'bot' }] });
    const mine = await crm.deals.create({ title: 'Mine', pipelineId: pipeline.id, ownerId: 'bot' });
    const theirs = await crm.deals.create({ title: 'Theirs', pipelineId: pipeline.id, ownerId: 'anna' });
    await crm.automations.drain();
    expect((await crm.deals.get(mine.id)).tags).toEqual(['bot']);
    expect((await crm.deals.get(theirs.id)).tags).toEqual([]);
    const runs = (await crm.automations.runs()).items;
    expect(runs.find((r) => r.subjectId === theirs.id)?.reason?.split(':')[0]).toBe('notFound');
    // A view lists the runs of a record it can read, not the whole log.
    expect((await code(crm.as({ userId: 'anna' }).automations.runs())).code).toBe('FORBIDDEN');
  });
});

describe('define-time validation', () => {
  it('refuses unknown events and fields, misplaced actions, funnel contradictions, cycles and oversized rules', async () => {
    const { crm } = await setup();
    const cases: [unknown, string][] = [
      [{ name: 'x', trigger: { type: 'event', event: 'deal.exploded' }, actions: [{ type: 'addTag', tag: 'x' }] }, 'is not an event type crmkit records'],
      [{ name: 'x', trigger: { type: 'event', event: 'deal.won' }, conditions: [{ field: 'colour', op: 'eq', value: 'red' }], actions: [{ type: 'addTag', tag: 'x' }] }, 'unknown deal field'],
      [{ name: 'x', trigger: { type: 'fieldChanged', entity: 'lead', field: 'shoeSize' }, actions: [{ type: 'addTag', tag: 'x' }] }, 'unknown lead field'],
      [{ name: 'x', trigger: { type: 'event', event: 'lead.created' }, actions: [{ type: 'advance' }] }, 'does not apply to lead'],
      [{ name: 'x', trigger: { type: 'event', event: 'deal.won' }, actions: [{ type: 'lose', reason: 'aliens' }] }, 'unknown lost reason'],
      [{ name: 'x', trigger: { type: 'event', event: 'deal.won' }, actions: [{ type: 'lose', reason: 'other' }] }, 'requires a comment'],
      [{ name: 'x', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'advance', toStage: 'nowhere' }] }, 'has a stage "nowhere"'],
      [{ name: 'x', trigger: { type: 'stageEntered', stage: 'nowhere' }, actions: [{ type: 'addTag', tag: 'x' }] }, 'no pipeline has a stage'],
      [{ name: 'x', trigger: { type: 'event', event: 'deal.won' }, actions: [{ type: 'updateFields', set: { stageKey: 'won' } }] }, 'advance / lose'],
      [{ name: 'x', trigger: { type: 'fieldChanged', entity: 'deal', field: 'tags' }, actions: [{ type: 'addTag', tag: 'x' }] }, 'loop'],
      [{ name: 'x', trigger: { type: 'event', event: 'deal.won' }, actions: [{ type: 'wait', for: { amount: 1, unit: 'days' } }] }, 'wait must be followed'],
      [{ name: 'x', trigger: { type: 'event', event: 'deal.won' }, actions: [{ type: 'addTag', tag: 'x', extra: 1 }] }, ''],
      [{ name: 'x', trigger: { type: 'event', event: 'deal.won' }, actions: Array.from({ length: 20 }, () => ({ type: 'emit', name: 'x', data: { blob: 'y'.repeat(1000) } })) }, 'at most 16384 bytes'],
    ];
    for (const [input, message] of cases) {
      const error = await code(crm.automations.define(input as never));
      expect(error.code, JSON.stringify(input).slice(0, 120)).toBe('VALIDATION');
      expect(error.messages.join(' | '), JSON.stringify(input).slice(0, 120)).toContain(message);
    }
    // A cycle across two rules: the second definition closes it.
    await crm.automations.define({ name: 'A', trigger: { type: 'fieldChanged', entity: 'deal', field: 'ownerId' }, actions: [{ type: 'addTag', tag: 'a' }] });
    const cycle = await code(crm.automations.define({ name: 'B', trigger: { type: 'fieldChanged', entity: 'deal', field: 'tags' }, actions: [{ type: 'assignOwner', userId: 'x' }] }));
    expect([cycle.code, cycle.messages[0]]).toEqual(['VALIDATION', 'the rules would trigger each other in a loop: B → A → B']);
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['A']);
  });
});
