import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../src/events/event-types.js';
import { TRIGGER_EVENTS } from '../../src/automations/trigger-events.js';
import { setupAutomations } from './automation-setup.js';
import { activityCallBack, definesRefuseHiddenReads, emit, enableRechecks, mergeStartsRules, policyChangedRunsFail, refusal, removedRecordAsSeen, removedRecordRule, taskCompletedFollowUp, taskDueEscalates } from './review-18g-scenarios.js';

// Seventh review of issue 18 (review18g): one block per item fixed here (#3–#7). The scenarios that
// write and run are shared with SQLite (packages/storage-sqlite/test/automation-review-18g.test.ts).

describe('review 18g #3: trigger data and field triggers only as the service principal reads them', () => {
  it('define refuses a field trigger, trigger.data paths and stage triggers reading what the principal may not read', () => definesRefuseHiddenReads());

  it('a policy changed after define: runs of such rules fail FORBIDDEN and act on nothing', () => policyChangedRunsFail());

  it('the triggering event is judged as the principal sees it: a removed deal it could not read is no run', () => removedRecordAsSeen());
});

describe('review 18g #4: tasks and activities take the actions the runtime supports', () => {
  it('taskDue: updateFields and assignOwner escalate the task', () => taskDueEscalates());

  it('task.completed: createTask makes the follow-up, linked where the task links; an activity for the task fulfils it', () => taskCompletedFollowUp());

  it('activity.logged: createTask makes the call-back; a manual activity rule logs a note beside it', () => activityCallBack());

  it('what tasks and activities lack stays refused, and task actions count in the cycle check', async () => {
    const { crm } = await setupAutomations();
    const rr = await crm.assignment.createStrategy({ name: 'RR', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'anna' }] });
    const due = { type: 'taskDue', before: { amount: 1, unit: 'days' } } as const;
    expect(await refusal(crm.automations.define({ name: 'x', trigger: due, actions: [{ type: 'addTag', tag: 'late' }] }))).toEqual([expect.stringMatching(/^actions\.0\.type: "addTag" does not apply to task records/)]);
    expect(await refusal(crm.automations.define({ name: 'x', trigger: due, actions: [{ type: 'assignOwner', strategyId: rr.id }] }))).toContainEqual(expect.stringMatching(/^actions\.0\.strategyId: assignment strategies assign leads and deals/));
    expect(await refusal(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'activity.logged' }, actions: [{ type: 'updateFields', set: { subject: 'x' } }] }))).toEqual([expect.stringMatching(/^actions\.0\.type: "updateFields" does not apply to activity records/)]);
    // A due-time rule that moves its own task's due time would fire again and again.
    expect(await refusal(crm.automations.define({ name: 'Push', trigger: due, actions: [{ type: 'updateFields', set: { dueAt: '2030-01-01T09:00:00.000Z' } }] }))).toEqual(['actions: the rules would trigger each other in a loop: Push → Push']);
    expect(await refusal(crm.automations.define({ name: 'Bump', trigger: { type: 'fieldChanged', entity: 'task', field: 'priority' }, actions: [{ type: 'updateFields', set: { priority: 'high' } }] }))).toEqual(['actions: the rules would trigger each other in a loop: Bump → Bump']);
  });
});

describe('review 18g #5: every record event of the event map starts rules', () => {
  it('the trigger events are the event map’s events about records; the others are refused, naming why', async () => {
    const records = Object.keys(EVENT_TYPES).filter((t) => ['lead', 'contact', 'company', 'deal', 'task', 'activity'].includes(t.split('.')[0]!));
    expect([...TRIGGER_EVENTS].sort()).toEqual(records.sort());
    expect(TRIGGER_EVENTS).toEqual(expect.arrayContaining(['lead.merged', 'lead.mergeUndone', 'contact.merged', 'contact.mergeUndone', 'company.merged', 'company.mergeUndone', 'deal.removed']));
    const { crm } = await setupAutomations();
    for (const event of records) expect(await refusal(crm.automations.define({ name: event, trigger: { type: 'event', event: event as never }, actions: emit })), event).toBe('ok');
    for (const event of Object.keys(EVENT_TYPES).filter((t) => !records.includes(t))) {
      expect(await refusal(crm.automations.define({ name: event, trigger: { type: 'event', event: event as never }, actions: emit })), event).toEqual([expect.stringMatching(/^trigger\.event: ".*" is about no record a rule runs for/)]);
    }
  });

  it('a merge and its undo start rules on the survivor', () => mergeStartsRules());

  it('a removed record: its rule tests the record as its event carries it and may only emit or send', () => removedRecordRule());
});

describe('review 18g #6: conditions that can never hold are refused at define', () => {
  it('unknown trigger facts and data keys, stages, lost reasons and values of the wrong type', async () => {
    const { crm } = await setupAutomations();
    const on = (event: string, field: string, op: string, value: unknown) => crm.automations.define({ name: 'x', trigger: { type: 'event', event: event as never }, conditions: [{ field, op: op as never, value: value as never }], actions: emit });
    const cases: [Promise<unknown>, RegExp][] = [
      [on('deal.created', 'trigger.dta.reason', 'eq', 'x'), /^conditions\.0\.field: an event trigger gives trigger\.type, trigger\.eventId, trigger\.at, trigger\.data: "trigger\.dta" is never set/],
      [on('deal.won', 'trigger.data.reasn', 'eq', 'price'), /^conditions\.0\.field: the data of deal\.won has no "reasn" \(it has: from, stageKey, amount, changes\)/],
      [on('deal.lost', 'trigger.data.reason', 'eq', 'no-such-reason'), /^conditions\.0\.value: "no-such-reason" is not a lost reason of pipeline "Sales"/],
      [on('deal.updated', 'stageKey', 'eq', 'no-stage'), /^conditions\.0\.value: "no-stage" is not a stage of pipeline "Sales"/],
      [on('deal.created', 'title', 'gt', 5), /^conditions\.0\.value: 5 is not a value "title" can hold/],
      [on('deal.created', 'value.amount', 'eq', 'lots'), /^conditions\.0\.value: "lots" is not a value "value\.amount" can hold: the condition would never hold/],
      [on('deal.created', 'value.amount', 'ne', 'lots'), /would always hold/],
      [on('deal.created', 'status', 'in', ['open', 'closed']), /^conditions\.0\.value: "closed" is not a value "status" can hold/],
      [on('deal.created', 'trigger.from', 'eq', 'new'), /"trigger\.from" is never set/],
      [on('deal.created', 'trigger.data.deal.titel', 'eq', 'x'), /^conditions\.0\.field: unknown deal field "titel"/],
      [on('deal.updated', 'trigger.data.changes.title.too', 'eq', 'x'), /a change is \{ from, to \}: "too" is never set/],
      [on('deal.stageChanged', 'trigger.data.to', 'eq', 'nowhere'), /"nowhere" is not a stage/],
      [crm.automations.define({ name: 'x', trigger: { type: 'stageLeft', stage: 'new' }, conditions: [{ field: 'trigger.to', op: 'in', value: ['proposal', 'propsal'] }], actions: emit }), /^conditions\.0\.value: "propsal" is not a stage/],
      [crm.automations.define({ name: 'x', trigger: { type: 'fieldChanged', entity: 'deal', field: 'title', from: 'a', to: 'a' }, actions: emit }), /^trigger\.to: from and to are both "a"/],
      [crm.automations.define({ name: 'x', trigger: { type: 'fieldChanged', entity: 'deal', field: 'probability' }, conditions: [{ field: 'trigger.to', op: 'gte', value: 'high' }], actions: emit }), /^conditions\.0\.value: "gte" compares with a number/],
      [crm.automations.define({ name: 'x', trigger: { type: 'fieldChanged', entity: 'deal', field: 'probability' }, conditions: [{ field: 'trigger.to', op: 'eq', value: 'high' }], actions: emit }), /"high" is not a value "probability" can hold/],
      [crm.automations.define({ name: 'x', trigger: { type: 'timeInStage', stage: 'proposal', for: { amount: 1, unit: 'days' } }, conditions: [{ field: 'trigger.data.deal.title', op: 'eq', value: 'x' }], actions: emit }), /a timeInStage trigger gives trigger\.type, trigger\.at, trigger\.stage: "trigger\.data" is never set/],
      [crm.automations.define({ name: 'x', trigger: { type: 'manual', entity: 'deal' }, conditions: [{ field: 'trigger.at', op: 'present' }], actions: emit }), /a manual trigger gives trigger\.type/],
    ];
    for (const [call, expected] of cases) {
      const issues = await refusal(call);
      expect(issues, String(expected)).not.toBe('ok');
      expect(issues as string[], String(expected)).toContainEqual(expect.stringMatching(expected));
    }
    expect(await crm.automations.list()).toEqual([]);
  });

  it('custom fields: a value of another type than the field’s', async () => {
    const { crm } = await setupAutomations();
    await crm.customFields.define({ entity: 'deal', key: 'score', label: 'Score', type: 'number' });
    await crm.customFields.define({ entity: 'deal', key: 'labels', label: 'Labels', type: 'multiselect', options: [{ value: 'a' }, { value: 'b' }] });
    const on = (conditions: unknown[], trigger: unknown = { type: 'event', event: 'deal.updated' }) => crm.automations.define({ name: 'x', trigger: trigger as never, conditions: conditions as never, actions: emit });
    expect(await refusal(on([{ field: 'custom.score', op: 'eq', value: 'high' }]))).toEqual([expect.stringMatching(/^conditions\.0\.value: "high" is not a value "custom\.score" \(number\) can hold/)]);
    expect(await refusal(on([{ field: 'custom.score', op: 'in', value: [1, '2'] }]))).toEqual([expect.stringMatching(/^conditions\.0\.value: "2" is not a value/)]);
    expect(await refusal(on([], { type: 'fieldChanged', entity: 'deal', field: 'custom.score', to: 'ten' }))).toEqual([expect.stringMatching(/^trigger: "ten" is not a value "custom\.score" \(number\) can hold: the rule would never fire/)]);
    expect(await refusal(on([{ field: 'custom.score', op: 'gt', value: 5 }, { field: 'custom.labels', op: 'eq', value: 'a' }, { field: 'custom.score', op: 'present' }]))).toBe('ok');
  });

  it('conditions that can hold are accepted', async () => {
    const { crm } = await setupAutomations();
    const rules = [
      { trigger: { type: 'event', event: 'deal.lost' }, conditions: [{ field: 'trigger.data.reason', op: 'eq', value: 'no-response' }, { field: 'trigger.data.from', op: 'in', value: ['new', 'proposal'] }] },
      { trigger: { type: 'event', event: 'deal.updated' }, conditions: [{ field: 'stageKey', op: 'eq', value: 'proposal' }, { field: 'value.amount', op: 'gt', value: 5 }, { field: 'trigger.data.changes.value.to.amount', op: 'gte', value: 100 }, { field: 'expectedCloseDate', op: 'lt', value: '2027-01-01' }, { field: 'tags', op: 'eq', value: 'vip' }] },
      { trigger: { type: 'event', event: 'deal.postponed' }, conditions: [{ field: 'trigger.data.from', op: 'lt', value: '2027-01-01T00:00:00Z' }, { field: 'trigger.data.stageKey', op: 'eq', value: 'proposal' }] },
      { trigger: { type: 'stageEntered', stage: 'proposal' }, conditions: [{ field: 'trigger.from', op: 'eq', value: 'new' }, { field: 'trigger.pipelineId', op: 'eq', value: 'p1' }, { field: 'trigger.data.changes', op: 'present' }] },
      { trigger: { type: 'fieldChanged', entity: 'deal', field: 'probability' }, conditions: [{ field: 'trigger.from', op: 'lt', value: 50 }, { field: 'trigger.to', op: 'gte', value: 50 }] },
      { trigger: { type: 'fieldChanged', entity: 'deal', field: 'value' }, conditions: [{ field: 'trigger.to.amount', op: 'gt', value: 1000 }] },
      { trigger: { type: 'taskDue', before: { amount: 1, unit: 'days' } }, conditions: [{ field: 'trigger.to', op: 'lt', value: '2027-01-01' }, { field: 'status', op: 'eq', value: 'open' }, { field: 'priority', op: 'in', value: ['high', 'urgent'] }] },
      // (`trigger.stage` of a time rule and `present` of `trigger.at` would always hold: review 18i #3.)
      { trigger: { type: 'timeInStage', stage: 'proposal', for: { amount: 1, unit: 'days' } }, conditions: [{ field: 'trigger.at', op: 'gte', value: '2026-01-01' }, { field: 'stageEnteredAt', op: 'lt', value: '2027-01-01' }] },
      { trigger: { type: 'event', event: 'lead.created' }, conditions: [{ field: 'trigger.data.lead.source', op: 'eq', value: 'web-form' }, { field: 'status', op: 'eq', value: 'new' }] },
    ];
    for (const rule of rules) expect(await refusal(crm.automations.define({ name: 'ok', ...rule, actions: emit } as never)), JSON.stringify(rule)).toBe('ok');
  });
});

describe('review 18g #7: enable runs every define check again', () => {
  it('a stage removed while the rule was off, a field the principal no longer reads: enable refuses, the rule stays off', () => enableRechecks());
});
