import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

// Regressions from a user's review of the automation feature (issue 18).

const STAGES = [
  { key: 'new', name: 'New' },
  { key: 'proposal', name: 'Proposal' },
  { key: 'negotiation', name: 'Negotiation' },
  { key: 'won', name: 'Won', kind: 'won' as const },
  { key: 'lost', name: 'Lost', kind: 'lost' as const },
];

async function setup() {
  const test = await createTestCrm();
  const pipeline = await test.crm.pipelines.create({ name: 'Sales', stages: STAGES });
  return { ...test, pipeline };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; issues: { path: unknown[]; code: string; message: string }[] }> {
  try {
    await promise;
  } catch (error) {
    if (isCrmError(error)) return { code: error.code, issues: (error.details as { issues?: { path: unknown[]; code: string; message: string }[] }).issues ?? [] };
    throw error;
  }
  throw new Error('expected a CrmError');
}

describe('stage triggers scoped to a pipeline', () => {
  it('fire only for deals of that pipeline, on every kind of stage move', async () => {
    const { crm, pipeline } = await setup();
    const other = await crm.pipelines.create({ name: 'Renewals', stages: STAGES });
    const rules = await Promise.all(
      [
        ['entered proposal', { type: 'stageEntered', stage: 'proposal', pipelineId: pipeline.id }],
        ['left proposal', { type: 'stageLeft', stage: 'proposal', pipelineId: pipeline.id }],
        ['entered won', { type: 'stageEntered', stage: 'won', pipelineId: pipeline.id }],
        ['entered negotiation', { type: 'stageEntered', stage: 'negotiation', pipelineId: pipeline.id }],
      ].map(([name, trigger]) => crm.automations.define({ name: name as string, trigger: trigger as never, actions: [{ type: 'emit', name: 'hit' }] })),
    );
    const moveThrough = async (pipelineId: string) => {
      const deal = await crm.deals.create({ title: 'D', pipelineId });
      await crm.deals.advance(deal.id); // new → proposal
      await crm.deals.advance(deal.id); // proposal → negotiation
      await crm.deals.win(deal.id); // negotiation → won
      await crm.deals.reopen(deal.id, { toStage: 'negotiation' } as never); // won → negotiation
      return deal.id;
    };
    const theirs = await moveThrough(other.id);
    const ours = await moveThrough(pipeline.id);
    await crm.automations.drain();
    for (const rule of rules) {
      const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
      expect(runs.map((r) => r.subjectId), rule.name).not.toContain(theirs);
      expect(runs.length, rule.name).toBeGreaterThan(0);
      expect(new Set(runs.map((r) => r.subjectId)), rule.name).toEqual(new Set([ours]));
    }
    // Reopened into negotiation: entered negotiation twice (advance, reopen).
    expect((await crm.automations.runs({ ruleId: rules[3]!.id })).items).toHaveLength(2);
  });
});

describe('stageEntered on a lost stage', () => {
  it('fires when a deal is lost (deal.lost enters the pipeline\'s lost stage)', async () => {
    const { crm, pipeline } = await setup();
    const rule = await crm.automations.define({ name: 'Lost', trigger: { type: 'stageEntered', stage: 'lost' }, actions: [{ type: 'addTag', tag: 'lost' }] });
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    await crm.deals.lose(deal.id, { reason: 'price' });
    await crm.automations.drain();
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => [r.status, r.subjectId])).toEqual([['done', deal.id]]);
    expect((await crm.deals.get(deal.id)).tags).toEqual(['lost']);
    const lost = (await crm.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.type === 'deal.lost')!;
    expect(lost.data).toMatchObject({ from: 'new', stageKey: 'lost', reason: 'price' });
  });
});

describe('simulate on a view', () => {
  it('is NOT_FOUND for an event whose record the view cannot read, and reveals nothing', async () => {
    const { crm, pipeline } = await setup();
    // The service principal reads only its own deals (a principal that reads no deal at all is refused at define).
    await crm.access.setPolicy({ roles: { rep: { grants: { deal: { read: 'own', update: 'own' }, pipeline: { read: 'all' } } }, bot: { grants: { deal: { read: 'own' } } } }, defaultRoles: ['bot'] } as never);
    const secret = await crm.deals.create({ title: 'Secret', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 999_999, currency: 'EUR' } });
    const mine = await crm.deals.create({ title: 'Mine', pipelineId: pipeline.id, ownerId: 'bob', value: { amount: 10, currency: 'EUR' } });
    const created = async (id: string) => (await crm.timeline({ type: 'deal', id })).items.find((e) => e.type === 'deal.created')!;
    const bob = crm.as({ userId: 'bob', roles: ['rep'] });
    const probe = (value: number) => ({ name: 'S', trigger: { type: 'event' as const, event: 'deal.created' }, conditions: [{ field: 'value.amount', op: 'gt' as const, value }], actions: [{ type: 'emit' as const, name: 'x' }] });
    const theirs = await created(secret.id);
    for (const value of [500_000, 2_000_000]) expect((await failure(bob.automations.simulate(probe(value), theirs))).code).toBe('NOT_FOUND');
    // A made-up event about a record the view cannot read; one of no record type automation runs for is malformed (a fixed rule: it reveals nothing).
    expect((await failure(bob.automations.simulate(probe(1), { ...theirs, id: 'event_fake' }))).code).toBe('NOT_FOUND');
    expect((await failure(bob.automations.simulate(probe(1), { ...theirs, subjectType: 'automationRule' as never }))).code).toBe('VALIDATION');
    // Its own record: simulated as before (as the service principal, which this policy lets read none of bob's deals).
    const sim = await bob.automations.simulate(probe(5), await created(mine.id));
    expect([sim.matched, sim.status, sim.reason?.split(':')[0]]).toEqual([true, 'skipped', 'notFound']);
  });
});

describe('cycle analysis follows stage moves', () => {
  it('accepts stage-triggered advances that cannot re-enter the stage, and runs them once', async () => {
    const { crm, pipeline } = await setup();
    const rule = await crm.automations.define({ name: 'Proposal → next', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'advance' }] });
    await crm.automations.define({ name: 'Left negotiation', trigger: { type: 'stageLeft', stage: 'negotiation' }, actions: [{ type: 'addTag', tag: 'left' }] });
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    await crm.deals.advance(deal.id);
    await crm.automations.drain();
    expect((await crm.deals.get(deal.id)).stageKey).toBe('negotiation');
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.status)).toEqual(['done']);
    // A pipeline that allows skipping: entered "a" → advance to "c" cannot re-enter "a".
    const skip = await crm.pipelines.create({ name: 'Skip', settings: { allowSkip: true }, stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }, { key: 'c', name: 'C' }] });
    const jump = await crm.automations.define({ name: 'A → C', trigger: { type: 'stageEntered', stage: 'a', pipelineId: skip.id }, actions: [{ type: 'advance', toStage: 'c' }] });
    expect(jump.enabled).toBe(true);
    // Chains that end are fine: entered new → advance (proposal) → advance (negotiation) stops there.
    await crm.automations.define({ name: 'New → next', trigger: { type: 'stageEntered', stage: 'new', pipelineId: pipeline.id }, actions: [{ type: 'advance' }] });
  });

  it('refuses skips and moves back with the funnel reason, not as a loop', async () => {
    const { crm, pipeline } = await setup();
    await crm.pipelines.update(pipeline.id, { settings: { allowSkip: false, allowBackward: false } } as never);
    const skip = await failure(crm.automations.define({ name: 'x', trigger: { type: 'stageEntered', stage: 'new' }, actions: [{ type: 'advance', toStage: 'negotiation' }] }));
    expect([skip.code, skip.issues.map((i) => i.message)]).toEqual(['VALIDATION', ['pipeline "Sales" does not allow skipping from "new" to "negotiation" (pipeline.noSkip)']]);
    const back = await failure(crm.automations.define({ name: 'x', trigger: { type: 'stageEntered', stage: 'negotiation' }, actions: [{ type: 'advance', toStage: 'new' }] }));
    expect([back.code, back.issues.map((i) => i.message)]).toEqual(['VALIDATION', ['pipeline "Sales" does not allow moving back from "negotiation" to "new" (pipeline.noBackward)']]);
    const closing = await failure(crm.automations.define({ name: 'x', trigger: { type: 'stageEntered', stage: 'negotiation' }, actions: [{ type: 'advance', toStage: 'lost' }] }));
    expect([closing.code, closing.issues.map((i) => i.path.join('.'))]).toEqual(['VALIDATION', ['actions.0.toStage']]);
    expect(closing.issues[0]!.message).toContain('use win or lose');
    expect(await crm.automations.list()).toEqual([]);
  });

  it('keeps refusing real cycles through stages', async () => {
    const { crm } = await setup();
    const both = await crm.pipelines.create({ name: 'Both ways', settings: { allowBackward: true }, stages: STAGES });
    await crm.automations.define({ name: 'Forth', trigger: { type: 'stageEntered', stage: 'proposal', pipelineId: both.id }, actions: [{ type: 'advance', toStage: 'negotiation' }] });
    const back = await failure(crm.automations.define({ name: 'Back', trigger: { type: 'stageEntered', stage: 'negotiation', pipelineId: both.id }, actions: [{ type: 'advance', toStage: 'proposal' }] }));
    expect([back.code, back.issues[0]?.message]).toEqual(['VALIDATION', 'the rules would trigger each other in a loop: Back → Forth → Back']);
    // A rule whose deal could be anywhere may advance into any stage: with an updated-field trigger it feeds itself.
    const anywhere = await failure(crm.automations.define({ name: 'Tag → move', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'emit', name: 'moved' }] }).then(() =>
      crm.automations.define({ name: 'Moved → advance', trigger: { type: 'event', event: 'deal.stageChanged' }, actions: [{ type: 'advance' }] })));
    expect([anywhere.code, anywhere.issues[0]?.message]).toEqual(['VALIDATION', 'the rules would trigger each other in a loop: Moved → advance → Moved → advance']);
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['Forth', 'Tag → move']);
  });
});

describe('references checked at define', () => {
  it('refuses assignment strategies that do not exist (or assign another record type), at their path', async () => {
    const { crm } = await setup();
    const leads = await crm.assignment.createStrategy({ name: 'RR', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'anna' }] });
    const task = { subject: 's', type: 'call' as const, due: { amount: 1, unit: 'days' as const } };
    const owner = await failure(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'lead.created' }, actions: [{ type: 'assignOwner', strategyId: 'assignmentStrategy_nope' }] }));
    expect([owner.code, owner.issues.map((i) => [i.path.join('.'), i.code])]).toEqual(['VALIDATION', [['actions.0.strategyId', 'not_found']]]);
    const assignee = await failure(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'a' }, { type: 'createTask', task: { ...task, assignee: { kind: 'strategy', strategyId: 'assignmentStrategy_nope' } } }] }));
    expect([assignee.code, assignee.issues.map((i) => [i.path.join('.'), i.code])]).toEqual(['VALIDATION', [['actions.1.task.assignee.strategyId', 'not_found']]]);
    const wrongType = await failure(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'assignOwner', strategyId: leads.id }] }));
    expect([wrongType.code, wrongType.issues.map((i) => i.path.join('.'))]).toEqual(['VALIDATION', ['actions.0.strategyId']]);
    const sim = await failure(crm.automations.simulate({ name: 'x', trigger: { type: 'event', event: 'lead.created' }, actions: [{ type: 'assignOwner', strategyId: 'assignmentStrategy_nope' }] }, {} as never));
    expect(sim.code).toBe('VALIDATION');
    expect(await crm.automations.list()).toEqual([]);
    // Existing strategies are accepted.
    await crm.automations.define({ name: 'ok', trigger: { type: 'event', event: 'lead.created' }, actions: [{ type: 'assignOwner', strategyId: leads.id }, { type: 'createTask', task: { ...task, assignee: { kind: 'strategy', strategyId: leads.id } } }] });
  });

  it('define with an id edits a stored rule; an unknown id is NOT_FOUND, not a new rule', async () => {
    const { crm } = await setup();
    const rule = { name: 'p', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'addTag' as const, tag: 'a' }] };
    expect((await failure(crm.automations.define({ ...rule, id: 'automationRule_mine' }))).code).toBe('NOT_FOUND');
    expect(await crm.automations.list()).toEqual([]);
    const stored = await crm.automations.define(rule);
    const edited = await crm.automations.define({ ...rule, id: stored.id, name: 'q' });
    expect([edited.id, edited.revision, (await crm.automations.list()).map((r) => r.name)]).toEqual([stored.id, 2, ['q']]);
  });
});

describe('conditions and closed deals checked at define', () => {
  it('refuses condition paths into the object prototype and values the operator cannot compare', async () => {
    const { crm } = await setup();
    const when = (field: string, op: string, value?: unknown) =>
      failure(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field, op, ...(value === undefined ? {} : { value }) }] as never, actions: [{ type: 'addTag', tag: 'a' }] }));
    for (const field of ['trigger.constructor.name', 'trigger.data.toString', 'custom.prototype', 'title.constructor']) {
      const refused = await when(field, 'eq', 'Object');
      expect([refused.code, refused.issues.map((i) => i.path.join('.'))], field).toEqual(['VALIDATION', ['conditions.0.field']]);
    }
    const changed = await failure(crm.automations.define({ name: 'x', trigger: { type: 'fieldChanged', entity: 'deal', field: 'custom.constructor' }, actions: [{ type: 'emit', name: 'x' }] }));
    expect(changed.issues.map((i) => i.path.join('.'))).toEqual(['trigger.field']);
    for (const [op, value] of [['gt', 'abc'], ['lte', true], ['gte', undefined], ['lt', [1, 2]], ['in', 'abc'], ['in', 5], ['eq', ['a', 'b']]] as const) {
      const refused = await when('value.amount', op, value);
      expect([refused.code, refused.issues.map((i) => i.path.join('.'))], `${op} ${JSON.stringify(value)}`).toEqual(['VALIDATION', ['conditions.0.value']]);
    }
    // Comparable values are accepted: numbers, ISO-8601 dates, lists for "in".
    await crm.automations.define({ name: 'ok', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'value.amount', op: 'gt', value: 500 }, { field: 'expectedCloseDate', op: 'lt', value: '2026-06-30' }, { field: 'ownerId', op: 'in', value: ['anna', 'ben'] }, { field: 'title', op: 'present' }], actions: [{ type: 'addTag', tag: 'a' }] });
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['ok']);
  });

  it('refuses lose / advance in a rule that starts only for a won or lost deal', async () => {
    const { crm } = await setup();
    const cases = [
      [{ type: 'event', event: 'deal.won' }, { type: 'lose', reason: 'price' }, 'a won deal cannot be lost'],
      [{ type: 'event', event: 'deal.lost' }, { type: 'lose', reason: 'price' }, 'a lost deal cannot be lost'],
      [{ type: 'event', event: 'deal.won' }, { type: 'advance' }, 'a won deal cannot advance'],
      [{ type: 'stageEntered', stage: 'won' }, { type: 'lose', reason: 'price' }, 'a won deal cannot be lost'],
      [{ type: 'stageEntered', stage: 'lost' }, { type: 'lose', reason: 'price' }, 'a lost deal cannot be lost'],
    ] as const;
    for (const [trigger, action, message] of cases) {
      const refused = await failure(crm.automations.define({ name: 'x', trigger, actions: [{ type: 'emit', name: 'first' }, action] } as never));
      expect([refused.code, refused.issues.map((i) => [i.path.join('.'), i.message.slice(0, message.length)])], message).toEqual(['VALIDATION', [['actions.1.type', message]]]);
    }
    expect(await crm.automations.list()).toEqual([]);
    // An open deal may still be lost by a rule.
    await crm.automations.define({ name: 'ok', trigger: { type: 'stageEntered', stage: 'negotiation' }, actions: [{ type: 'wait', for: { amount: 30, unit: 'days' } }, { type: 'lose', reason: 'timing' }] });
  });
});
