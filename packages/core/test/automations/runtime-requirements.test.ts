import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { allFeatures, createTestCrm } from '@crmkit/core/testing';
import { automations } from '@crmkit/core/automations';
import { setupAutomations } from './automation-setup.js';

// Review 18f follow-up (fix18m #4): what an action needs at run time is checked when the rule is
// defined — a wait that waits for something, a messenger for sendMessage, the feature of the records a
// rule is about, and the service principal's rights — VALIDATION at the action's path, nothing stored.

type Issue = { path: (string | number)[]; code: string; message: string };

async function refused(promise: Promise<unknown>): Promise<Issue[]> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isCrmError(error, 'VALIDATION')) throw new Error(`expected VALIDATION, got ${String(error)}`);
  return (error.details as { issues: Issue[] }).issues;
}

const manual = { type: 'manual' as const, entity: 'deal' as const };
const tag = { type: 'addTag' as const, tag: 'x' };

describe('wait', () => {
  it.each([0, -1, 3651, 1.5])('a wait of %s is refused at actions.N.for.amount, nothing stored', async (amount) => {
    const { crm } = await setupAutomations();
    for (const unit of ['minutes', 'days'] as const) {
      const issues = await refused(crm.automations.define({ name: 'r', trigger: manual, actions: [tag, { type: 'wait', for: { amount, unit } }, tag] }));
      expect(issues.map((i) => i.path.join('.'))).toEqual(['actions.1.for.amount']);
    }
    expect(await crm.automations.list()).toEqual([]);
  });

  it('a wait of 1 to 3650 is accepted, and update refuses setting it to 0', async () => {
    const { crm } = await setupAutomations();
    for (const amount of [1, 3650]) await crm.automations.define({ name: `w${amount}`, trigger: manual, actions: [{ type: 'wait', for: { amount, unit: 'businessDays' } }, tag] });
    const [rule] = await crm.automations.list();
    const issues = await refused(crm.automations.update(rule!.id, { actions: [{ type: 'wait', for: { amount: 0, unit: 'hours' } }, tag] }));
    expect(issues.map((i) => i.path.join('.'))).toEqual(['actions.0.for.amount']);
    expect((await crm.automations.get(rule!.id)).revision).toBe(1);
  });
});

describe('sendMessage needs something that sends', () => {
  const send = { type: 'sendMessage' as const, channel: 'email' as const, template: 'welcome' };

  it('without a messenger: VALIDATION at actions.N.type naming the option; define, update and simulate alike', async () => {
    const { crm } = await createTestCrm({ features: [allFeatures()[11], automations()] as const });
    const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
    const issues = await refused(crm.automations.define({ name: 'Welcome', trigger: manual, actions: [tag, send] }));
    expect(issues).toEqual([expect.objectContaining({ path: ['actions', 1, 'type'], code: 'feature_required' })]);
    expect(issues[0]!.message).toContain('messenger');
    expect(issues[0]!.message).toContain("'external'");
    const rule = await crm.automations.define({ name: 'Tag', trigger: manual, actions: [tag] });
    expect((await refused(crm.automations.update(rule.id, { actions: [send] }))).map((i) => i.path.join('.'))).toEqual(['actions.0.type']);
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    const [event] = (await crm.events.read({ types: ['deal.created'] })).events;
    expect((await refused(crm.automations.simulate({ name: 'S', trigger: { type: 'event', event: 'deal.created' }, actions: [send] }, event!))).map((i) => i.path.join('.'))).toEqual(['actions.0.type']);
    expect(event!.subjectId).toBe(deal.id);
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['Tag']);
  });

  it("with messenger: 'external' the message is recorded as an automation.message event for the host's own consumer", async () => {
    const { crm } = await createTestCrm({ features: [allFeatures()[11], automations({ messenger: 'external' })] as const });
    const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }] });
    const rule = await crm.automations.define({ name: 'Welcome', trigger: manual, actions: [send] });
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    expect((await crm.automations.trigger(rule.id, { type: 'deal', id: deal.id }))?.status).toBe('done');
    const messages = (await crm.events.read({ types: ['automation.message'] as never })).events;
    expect(messages.map((e) => [e.subjectId, (e.data as { template: string }).template])).toEqual([[deal.id, 'welcome']]);
  });

  it('a messenger option that is neither a messenger nor external is refused', () => {
    for (const messenger of ['internal', {}, { send: 'x' }]) {
      let error: unknown;
      try {
        automations({ messenger: messenger as never });
      } catch (e) {
        error = e;
      }
      expect(isCrmError(error, 'VALIDATION')).toBe(true);
    }
  });
});

describe('rules about records of a feature the crm lacks', () => {
  it('task and activity rules without tasks() / activities() are refused at trigger (they would never run)', async () => {
    const { crm } = await createTestCrm({ features: [allFeatures()[11], automations({ messenger: 'external' })] as const });
    const emit = { type: 'emit' as const, name: 'x' };
    for (const trigger of [{ type: 'taskDue', before: { amount: 1, unit: 'days' } }, { type: 'event', event: 'task.completed' }, { type: 'fieldChanged', entity: 'task', field: 'subject' }, { type: 'event', event: 'activity.logged' }, { type: 'manual', entity: 'activity' }]) {
      const issues = await refused(crm.automations.define({ name: 'r', trigger: trigger as never, actions: [emit] }));
      expect(issues.map((i) => [i.path.join('.'), i.code])).toEqual([['trigger', 'feature_required']]);
    }
    expect(await crm.automations.list()).toEqual([]);
  });
});

describe("the service principal's rights", () => {
  async function withBot(grants: Record<string, unknown>, fields?: Record<string, unknown>) {
    const setup = await setupAutomations();
    await setup.crm.customFields.define({ entity: 'deal', key: 'score', label: 'Score', type: 'number' });
    await setup.crm.access.setPolicy({ roles: { bot: { grants: { pipeline: { read: 'all' }, ...grants }, ...(fields ? { fields } : {}) } }, defaultRoles: ['bot'] } as never);
    return setup;
  }
  const task = { type: 'createTask' as const, task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' as const } } };

  it('an action no role of it is granted: forbidden at actions.N.type', async () => {
    const { crm } = await withBot({ deal: { read: 'all', update: 'all' } });
    const strategy = await crm.assignment.createStrategy({ name: 'RR', entity: 'deal', kind: 'roundRobin', owners: [{ userId: 'anna' }] });
    for (const action of [task, { type: 'logActivity', activity: { kind: 'note' } }, { type: 'advance' }, { type: 'lose', reason: 'price' }, { type: 'assignOwner', strategyId: strategy.id }]) {
      const issues = await refused(crm.automations.define({ name: 'r', trigger: manual, actions: [tag, action as never] }));
      expect(issues.map((i) => [i.path.join('.'), i.code])).toEqual([['actions.1.type', 'forbidden']]);
      expect(issues[0]!.message).toContain('"automation"');
    }
    expect(await crm.automations.list()).toEqual([]);
  });

  it('a field it may not write: forbidden at the key that writes it', async () => {
    const { crm } = await withBot({ deal: { read: 'all', update: 'all' } }, { deal: { write: { deny: ['tags', 'ownerId', 'title', 'custom.score'] } } });
    const cases: [unknown, string][] = [
      [tag, 'actions.0.tag'],
      [{ type: 'removeTag', tag: 'x' }, 'actions.0.tag'],
      [{ type: 'assignOwner', userId: 'anna' }, 'actions.0.userId'],
      [{ type: 'updateFields', set: { title: 'T' } }, 'actions.0.set.title'],
      [{ type: 'updateFields', set: { custom: { score: 5 } } }, 'actions.0.set.custom.score'],
    ];
    for (const [action, path] of cases) {
      const issues = await refused(crm.automations.define({ name: 'r', trigger: manual, actions: [action as never] }));
      expect(issues.map((i) => [i.path.join('.'), i.code])).toEqual([[path, 'forbidden']]);
    }
    // What it may write passes.
    await crm.automations.define({ name: 'ok', trigger: manual, actions: [{ type: 'updateFields', set: { expectedCloseDate: '2026-03-01' } }] });
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['ok']);
  });

  it('records it may not read at all: forbidden at trigger (every run would be skipped)', async () => {
    const { crm } = await withBot({ lead: { read: 'all', update: 'all' } });
    const issues = await refused(crm.automations.define({ name: 'r', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'emit', name: 'x' }] }));
    expect(issues.map((i) => [i.path.join('.'), i.code])).toEqual([['trigger', 'forbidden']]);
  });

  it('enable checks a disabled rule again: a right withdrawn while it was off is refused, the rule stays off', async () => {
    const { crm } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'Call', trigger: manual, actions: [task] });
    await crm.automations.disable(rule.id);
    await crm.access.setPolicy({ roles: { bot: { grants: { pipeline: { read: 'all' }, deal: { read: 'all' } } } }, defaultRoles: ['bot'] } as never);
    const issues = await refused(crm.automations.enable(rule.id));
    expect(issues.map((i) => [i.path.join('.'), i.code])).toEqual([['actions.0.type', 'forbidden']]);
    expect((await crm.automations.get(rule.id)).enabled).toBe(false);
  });
});
