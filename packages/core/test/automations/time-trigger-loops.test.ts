import { describe, expect, it } from 'vitest';
import { findCycle } from '../../src/automations/check-rule.js';
import type { AutomationRule, AutomationRuleInput } from '../../src/automations/automation-schema.js';
import { setupAutomations, STAGES } from './automation-setup.js';

// Review 18g #2: loop protection covers time triggers — at define (edges into time rules) and when
// they run (a time run continues the chain of the event it counts from).

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { code?: string; details?: { issues?: { path: unknown[]; code: string; message: string }[] } }) => ({ code: e.code, issues: (e.details?.issues ?? []).map((i) => [i.path.join('.'), i.code]) }),
  );
const minutes = (amount: number) => ({ amount, unit: 'minutes' as const });

describe('cycles through time triggers are refused at define', () => {
  it('timeInStage → advance back → stageEntered → advance: the second define (either order) is a cycle', async () => {
    const back: AutomationRuleInput = { name: 'Back to new', trigger: { type: 'timeInStage', stage: 'proposal', for: minutes(1) }, actions: [{ type: 'advance', toStage: 'new' }] };
    const push: AutomationRuleInput = { name: 'Push to proposal', trigger: { type: 'stageEntered', stage: 'new' }, actions: [{ type: 'advance' }] };
    for (const [first, second] of [[back, push], [push, back]]) {
      const { crm } = await setupAutomations();
      await crm.automations.define(first!);
      expect(await refusal(crm.automations.define(second!))).toEqual({ code: 'VALIDATION', issues: [['actions', 'cycle']] });
      expect((await crm.automations.list()).map((r) => r.name)).toEqual([first!.name]);
    }
  });

  it('two timeInStage rules that move a deal back and forth are a cycle; one that moves on to a stage no rule watches is not', async () => {
    const { crm } = await setupAutomations();
    await crm.automations.define({ name: 'Forward', trigger: { type: 'timeInStage', stage: 'new', for: minutes(5) }, actions: [{ type: 'advance' }] });
    expect(await refusal(crm.automations.define({ name: 'Back', trigger: { type: 'timeInStage', stage: 'proposal', for: minutes(5) }, actions: [{ type: 'advance', toStage: 'new' }] }))).toEqual({ code: 'VALIDATION', issues: [['actions', 'cycle']] });
    await crm.automations.define({ name: 'Onward', trigger: { type: 'timeInStage', stage: 'proposal', for: minutes(5) }, actions: [{ type: 'advance' }] });
    // Enabling a disabled rule is checked again.
    const back = await crm.automations.define({ name: 'Back (off)', enabled: false, trigger: { type: 'timeInStage', stage: 'negotiation', for: minutes(5) }, actions: [{ type: 'advance', toStage: 'new' }] });
    expect(await refusal(crm.automations.enable(back.id))).toEqual({ code: 'VALIDATION', issues: [['actions', 'cycle']] });
  });

  it('a taskDue rule is reached by what creates a task or changes its due time', () => {
    const pipelines = [{ id: 'p', stages: STAGES.map((s) => ({ kind: 'open', ...s, entryRules: [], exitRules: [] })), settings: { lostReasons: [] } }] as never;
    const rule = (id: string, trigger: AutomationRule['trigger'], actions: AutomationRule['actions']) => ({ id, name: id, trigger, actions });
    const due = rule('due', { type: 'taskDue', before: { amount: 1, unit: 'days' } }, [{ type: 'createTask', task: { subject: 'Again', type: 'call', due: { amount: 2, unit: 'days' } } }]);
    expect(findCycle(due, [], pipelines)).toEqual(['due', 'due']);
    const move = rule('move', { type: 'taskDue', before: { amount: 1, unit: 'days' } }, [{ type: 'updateFields', set: { dueAt: '2030-01-01T00:00:00.000Z' } }]);
    expect(findCycle(move, [], pipelines)).toEqual(['move', 'move']);
    const tag = rule('tag', { type: 'taskDue', before: { amount: 1, unit: 'days' } }, [{ type: 'updateFields', set: { priority: 'high' } }]);
    expect(findCycle(tag, [], pipelines)).toBeUndefined();
    // advance creates the next stage's tasks: it leads into a taskDue rule.
    const advance = rule('advance', { type: 'stageEntered', stage: 'new' }, [{ type: 'advance' }]);
    expect(findCycle(advance, [{ ...due, actions: [{ type: 'emit', name: 'x' }] }], pipelines)).toBeUndefined();
    expect(findCycle(due, [advance], pipelines)).toEqual(['due', 'due']);
  });

  it('timeInStage for 0 is refused (a stageEntered trigger fires on entry)', async () => {
    const { crm } = await setupAutomations();
    expect(await refusal(crm.automations.define({ name: 'At once', trigger: { type: 'timeInStage', stage: 'new', for: minutes(0) }, actions: [{ type: 'addTag', tag: 'x' }] }))).toEqual({ code: 'VALIDATION', issues: [['trigger.for.amount', 'too_small']] });
  });
});

describe('time runs continue the chain of the event they count from', () => {
  it('a loop through a host handler and a time trigger is cut as a loop, not run on every tick', async () => {
    const { crm, pipeline, clock } = await setupAutomations();
    const stale = await crm.automations.define({ name: 'Stale proposal', trigger: { type: 'timeInStage', stage: 'proposal', for: minutes(1) }, actions: [{ type: 'emit', name: 'stale' }] });
    const push = await crm.automations.define({ name: 'Push to proposal', trigger: { type: 'stageEntered', stage: 'new' }, actions: [{ type: 'advance' }] });
    const pending: Promise<unknown>[] = [];
    // The host answers a stale proposal by moving the deal back, on behalf of the event.
    crm.on('custom.stale' as never, (event: { subjectId: string }) => void pending.push(crm.automations.causedBy<typeof crm>(event as never).deals.advance(event.subjectId, { toStage: 'new' })));
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, stageKey: 'proposal' });
    for (let round = 0; round < 6; round++) {
      clock.advance(2 * 60_000);
      await crm.scheduler.tick();
      await Promise.all(pending.splice(0));
      await crm.automations.drain();
    }
    const runs = async (id: string) => (await crm.automations.runs({ ruleId: id })).items.map((r) => [r.status, r.depth, r.reason?.split(':')[0]]).reverse();
    // Stale (depth 0) → host moves back → Push (1) → proposal → Stale again: in its own chain.
    expect(await runs(stale.id)).toEqual([['done', 0, undefined], ['skipped', 2, 'loop']]);
    expect(await runs(push.id)).toEqual([['done', 1, undefined]]);
    expect((await crm.deals.get(deal.id)).stageKey).toBe('proposal');
    // simulate (for the deal, by an event no automation caused) takes the cause a tick would.
    const [created] = (await crm.events.read({ after: 0, limit: 10, types: ['deal.created'] })).events;
    const sim = await crm.automations.simulate(stale.id, created!);
    expect([sim.status, sim.reason?.split(':')[0]]).toEqual(['skipped', 'loop']);
  });

  it('the depth limit counts a taskDue run after the run that created its task', async () => {
    const { crm, pipeline, clock } = await setupAutomations({ maxDepth: 1 });
    await crm.automations.define({ name: 'Call', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 2, unit: 'days' } } }] });
    const remind = await crm.automations.define({ name: 'Remind', trigger: { type: 'taskDue', before: { amount: 1, unit: 'days' } }, actions: [{ type: 'emit', name: 'remind' }] });
    await crm.automations.define({ name: 'Advance', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'advance' }] });
    await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.automations.drain(); // Advance (0) → proposal → Call (1) creates the task
    await crm.automations.drain();
    const own = await crm.tasks.create({ subject: 'Own task', type: 'call', dueAt: new Date(clock.now() + 2 * 86_400_000).toISOString() });
    clock.advance(36 * 3_600_000);
    await crm.automations.tick();
    const runs = (await crm.automations.runs({ ruleId: remind.id })).items.map((r) => [r.subjectId === own.id ? 'own' : 'rule', r.status, r.depth, r.reason?.split(':')[0]]);
    expect(runs.sort()).toEqual([['own', 'done', 0, undefined], ['rule', 'skipped', 2, 'depthLimit']]);
  });
});
