import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { EVENT_TYPES } from '../../src/events/event-types.js';
import { TRIGGER_EVENTS } from '../../src/automations/trigger-events.js';
import { setupAutomations } from './automation-setup.js';

// Seventh review of issue 18 (review18g): one block per item fixed here (#3–#7).

/** The VALIDATION issues of a refused call, as `path: message`; `'ok'` when it succeeded. */
async function refusal(call: Promise<unknown>): Promise<string[] | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (!isCrmError(error, 'VALIDATION')) throw error;
    return (error.details as { issues: { path: (string | number)[]; message: string }[] }).issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }
}

const emit = [{ type: 'emit' as const, name: 'seen' }];
const grants = { deal: { '*': 'all' }, pipeline: { read: 'all' }, task: { '*': 'all' }, activity: { '*': 'all' }, contact: { '*': 'all' }, lead: { '*': 'all' }, company: { '*': 'all' } } as const;
const noValue = { roles: { bot: { grants, fields: { deal: { read: { deny: ['value'] } } } } } };
const bot = { servicePrincipal: { userId: 'bot', roles: ['bot'] } };

describe('review 18g #3: trigger data and field triggers only as the service principal reads them', () => {
  it('define refuses a field trigger, trigger.data paths and stage triggers reading what the principal may not read', async () => {
    const { crm } = await setupAutomations(bot);
    await crm.access.setPolicy(noValue as never);
    const rules = {
      fieldTrigger: { name: 'Big', trigger: { type: 'fieldChanged', entity: 'deal', field: 'value.amount' }, conditions: [{ field: 'trigger.to', op: 'gt', value: 1000 }], actions: emit },
      record: { name: 'Big', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'trigger.data.deal.value.amount', op: 'gt', value: 1000 }], actions: emit },
      change: { name: 'Big', trigger: { type: 'event', event: 'deal.updated' }, conditions: [{ field: 'trigger.data.changes.value.to.amount', op: 'gt', value: 1000 }], actions: emit },
      // deal.won's `amount` is the deal's value: hidden with it.
      wonAmount: { name: 'Big', trigger: { type: 'event', event: 'deal.won' }, conditions: [{ field: 'trigger.data.amount.amount', op: 'gt', value: 1000 }], actions: emit },
    };
    for (const [name, rule] of Object.entries(rules)) {
      const issues = await refusal(crm.automations.define(rule as never));
      expect(issues, name).not.toBe('ok');
      expect((issues as string[]).join('\n'), name).toMatch(/the service principal "bot" may not read .*(value|amount)/);
    }
    expect(await refusal(crm.automations.define(rules.fieldTrigger as never))).toEqual([expect.stringMatching(/^trigger\.field: the service principal "bot" may not read value\.amount of deal records/)]);
    expect(await refusal(crm.automations.define(rules.record as never))).toEqual([expect.stringMatching(/^conditions\.0\.field: .*trigger\.data\.deal\.value\.amount/)]);
    // What the principal reads is fine.
    expect(await refusal(crm.automations.define({ name: 'Titled', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'trigger.data.deal.title', op: 'eq', value: 'x' }], actions: emit }))).toBe('ok');
    // A principal that may not read stages: stage triggers are about what it cannot see.
    await crm.access.setPolicy({ roles: { bot: { grants, fields: { deal: { read: { deny: ['stageKey'] } } } } } } as never);
    expect(await refusal(crm.automations.define({ name: 'Proposal', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: emit }))).toEqual([expect.stringMatching(/^trigger\.stage: .*stageKey of deal records/)]);
    // Link counts of merges: only for a principal reaching every record.
    await crm.access.setPolicy({ roles: { bot: { grants: { ...grants, deal: { read: 'own' } } } } } as never);
    expect(await refusal(crm.automations.define({ name: 'Merged', trigger: { type: 'event', event: 'contact.merged' }, conditions: [{ field: 'trigger.data.links', op: 'gt', value: 0 }], actions: emit }))).toEqual([expect.stringMatching(/^conditions\.0\.field: .*trigger\.data\.links/)]);
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['Titled']);
  });

  it('a policy changed after define: runs of such rules fail FORBIDDEN and act on nothing', async () => {
    const { crm, pipeline } = await setupAutomations(bot);
    await crm.access.setPolicy({ roles: { bot: { grants } } } as never);
    const field = await crm.automations.define({ name: 'Big change', trigger: { type: 'fieldChanged', entity: 'deal', field: 'value.amount' }, conditions: [{ field: 'trigger.to', op: 'gt', value: 1000 }], actions: [{ type: 'addTag', tag: 'big' }] });
    const data = await crm.automations.define({ name: 'Big new', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'trigger.data.deal.value.amount', op: 'gt', value: 1000 }], actions: [{ type: 'addTag', tag: 'bignew' }] });
    await crm.access.setPolicy(noValue as never);
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, value: { amount: 5000, currency: 'EUR' } });
    await crm.deals.update(deal.id, { value: { amount: 6000, currency: 'EUR' } });
    await crm.automations.drain();
    for (const rule of [field, data]) {
      const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
      expect(runs.map((r) => [r.status, r.error?.code])).toEqual([['failed', 'FORBIDDEN']]);
      expect(runs[0]!.error?.message).toContain('value');
    }
    expect((await crm.deals.get(deal.id)).tags).toEqual([]);
  });

  it('the triggering event is judged as the principal sees it: a removed deal it could not read is no run', async () => {
    const { crm, pipeline } = await setupAutomations(bot);
    const rule = await crm.automations.define({ name: 'Gone', trigger: { type: 'event', event: 'deal.removed' }, conditions: [{ field: 'title', op: 'eq', value: 'A' }], actions: emit });
    // Own deals only: a removed deal's event shows to a principal reading every deal (its subject is gone).
    await crm.access.setPolicy({ roles: { bot: { grants: { ...grants, deal: { read: 'own' } } } } } as never);
    const hidden = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'carl' });
    await crm.deals.remove(hidden.id);
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => [r.status, r.reason?.split(':')[0]])).toEqual([['skipped', 'notFound']]);
    await crm.access.setPolicy({ roles: { bot: { grants } } } as never);
    const seen = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'carl' });
    await crm.deals.remove(seen.id);
    await crm.automations.drain();
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items.filter((r) => r.subjectId === seen.id);
    expect(runs.map((r) => [r.status, r.actions.map((a) => a.detail)])).toEqual([['done', ['custom.seen']]]);
  });
});

describe('review 18g #4: tasks and activities take the actions the runtime supports', () => {
  it('taskDue: updateFields and assignOwner escalate the task', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'carl' });
    const task = await crm.tasks.create({ subject: 'Send offer', type: 'call', dueAt: new Date(clock.now() + 2 * 86_400_000).toISOString(), dealId: deal.id, ownerId: 'carl' });
    await crm.automations.define({ name: 'Escalate', trigger: { type: 'taskDue', before: { amount: 1, unit: 'days' } }, actions: [{ type: 'updateFields', set: { priority: 'urgent', notes: 'escalated' } }, { type: 'assignOwner', userId: 'boss' }] });
    clock.advance(1.5 * 86_400_000);
    await crm.automations.tick();
    const after = await crm.tasks.get(task.id);
    expect([after.priority, after.notes, after.ownerId]).toEqual(['urgent', 'escalated', 'boss']);
  });

  it('task.completed: createTask makes the follow-up, linked where the task links; an activity for the task fulfils it', async () => {
    const { crm, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'carl' });
    await crm.automations.define({ name: 'Follow up', trigger: { type: 'event', event: 'task.completed' }, conditions: [{ field: 'subject', op: 'eq', value: 'Demo' }], actions: [{ type: 'createTask', task: { subject: 'Ask for feedback', type: 'call', due: { amount: 1, unit: 'days' } } }, { type: 'logActivity', activity: { kind: 'note', subject: 'Demo done' } }] });
    const demo = await crm.tasks.create({ subject: 'Demo', type: 'meeting', dealId: deal.id, ownerId: 'dora' });
    await crm.tasks.complete(demo.id);
    await crm.automations.drain();
    const tasks = (await crm.tasks.list({ limit: 10 })).items.filter((t) => t.id !== demo.id);
    expect(tasks.map((t) => [t.subject, t.dealId, t.ownerId])).toEqual([['Ask for feedback', deal.id, 'dora']]);
    const activities = (await crm.activities.list()).items;
    expect(activities.map((a) => [a.subject, a.taskId, a.dealId])).toEqual([['Demo done', demo.id, deal.id]]);
  });

  it('activity.logged: createTask makes the call-back; a manual activity rule logs a note beside it', async () => {
    const { crm } = await setupAutomations();
    const ada = await crm.contacts.create({ name: 'Ada', ownerId: 'anna' });
    await crm.automations.define({ name: 'Call back', trigger: { type: 'event', event: 'activity.logged' }, conditions: [{ field: 'kind', op: 'eq', value: 'call' }, { field: 'outcome', op: 'eq', value: 'no answer' }], actions: [{ type: 'createTask', task: { subject: 'Call again', type: 'call', due: { amount: 1, unit: 'days' }, assignee: { kind: 'user', userId: 'anna' } } }] });
    const note = await crm.automations.define({ name: 'Note', trigger: { type: 'manual', entity: 'activity' }, actions: [{ type: 'logActivity', activity: { kind: 'note', subject: 'Checked' } }] });
    const call = await crm.activities.log({ kind: 'call', outcome: 'no answer', contactId: ada.id });
    await crm.automations.drain();
    expect((await crm.tasks.list()).items.map((t) => [t.subject, t.contactId, t.ownerId])).toEqual([['Call again', ada.id, 'anna']]);
    expect((await crm.automations.trigger(note.id, { type: 'activity', id: call.id }))?.status).toBe('done');
    expect((await crm.activities.list()).items.map((a) => [a.subject ?? a.kind, a.contactId]).sort()).toEqual([['Checked', ada.id], ['call', ada.id]]);
  });

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

  it('a merge and its undo start rules on the survivor', async () => {
    const { crm } = await setupAutomations();
    const merged = await crm.automations.define({ name: 'Merged', trigger: { type: 'event', event: 'contact.merged' }, conditions: [{ field: 'trigger.data.links', op: 'gte', value: 0 }], actions: [{ type: 'emit', name: 'merged' }] });
    const undone = await crm.automations.define({ name: 'Undone', trigger: { type: 'event', event: 'contact.mergeUndone' }, conditions: [{ field: 'trigger.data.restoredIds', op: 'present' }], actions: [{ type: 'emit', name: 'unmerged' }] });
    const a = await crm.contacts.create({ name: 'Bo X' });
    const b = await crm.contacts.create({ name: 'Bo Y' });
    const { merge } = await crm.merges.contacts(a.id, [b.id]);
    await crm.automations.drain();
    // (A rule that changed the survivor would block the undo, as any change since the merge does.)
    await crm.merges.undo(merge.id);
    await crm.automations.drain();
    for (const rule of [merged, undone]) expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => [r.subjectId, r.status])).toEqual([[a.id, 'done']]);
    const custom = (await crm.events.read({ after: 0, limit: 200, types: ['custom.merged', 'custom.unmerged'] as never })).events;
    expect(custom.map((e) => [e.type, e.subjectId])).toEqual([['custom.merged', a.id], ['custom.unmerged', a.id]]);
  });

  it('a removed record: its rule tests the record as its event carries it and may only emit or send', async () => {
    const { crm, pipeline, messenger } = await setupAutomations();
    expect(await refusal(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'deal.removed' }, actions: [{ type: 'addTag', tag: 'x' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'emit', name: 'x' }] }))).toEqual([
      expect.stringMatching(/^actions\.0\.type: "addTag" needs the record, and a deal\.removed rule runs after it is gone/),
      expect.stringMatching(/^actions\.1\.type: "wait" needs the record/),
    ]);
    const rule = await crm.automations.define({ name: 'Gone', trigger: { type: 'event', event: 'deal.removed' }, conditions: [{ field: 'value.amount', op: 'gte', value: 1000 }], actions: [{ type: 'sendMessage', channel: 'email', template: 'deal-removed' }, { type: 'emit', name: 'dealGone' }] });
    const big = await crm.deals.create({ title: 'Big', pipelineId: pipeline.id, value: { amount: 5000, currency: 'EUR' } });
    const small = await crm.deals.create({ title: 'Small', pipelineId: pipeline.id, value: { amount: 50, currency: 'EUR' } });
    await crm.deals.remove(big.id);
    await crm.deals.remove(small.id);
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => [r.subjectId, r.status])).toEqual([[big.id, 'done']]);
    expect(messenger.sent.map((m) => [m.template, m.record.id])).toEqual([['deal-removed', big.id]]);
    const sim = await crm.automations.simulate(rule.id, { type: 'deal.removed', subjectType: 'deal', subjectId: small.id, data: { deal: { id: small.id, title: 'Small', value: { amount: 2000, currency: 'EUR' } } } } as never);
    expect([sim.matched, sim.status, sim.actions.map((a) => a.type)]).toEqual([true, 'done', ['sendMessage', 'emit']]);
  });
});

describe('review 18g #6: conditions that can never hold are refused at define', () => {
  it('unknown trigger facts and data keys, stages, lost reasons and values of the wrong type', async () => {
    const { crm } = await setupAutomations();
    const on = (event: string, field: string, op: string, value: unknown) => crm.automations.define({ name: 'x', trigger: { type: 'event', event: event as never }, conditions: [{ field, op: op as never, value: value as never }], actions: emit });
    const cases: [Promise<unknown>, RegExp][] = [
      [on('deal.created', 'trigger.dta.reason', 'eq', 'x'), /^conditions\.0\.field: a event trigger gives trigger\.type, trigger\.eventId, trigger\.at, trigger\.data: "trigger\.dta" is never set/],
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

  it('conditions that can hold are accepted', async () => {
    const { crm } = await setupAutomations();
    const rules = [
      { trigger: { type: 'event', event: 'deal.lost' }, conditions: [{ field: 'trigger.data.reason', op: 'eq', value: 'no-response' }, { field: 'trigger.data.from', op: 'in', value: ['new', 'proposal'] }] },
      { trigger: { type: 'event', event: 'deal.updated' }, conditions: [{ field: 'stageKey', op: 'eq', value: 'proposal' }, { field: 'value.amount', op: 'gt', value: 5 }, { field: 'trigger.data.changes.value.to.amount', op: 'gte', value: 100 }, { field: 'expectedCloseDate', op: 'lt', value: '2027-01-01' }, { field: 'tags', op: 'eq', value: 'vip' }] },
      { trigger: { type: 'event', event: 'deal.postponed' }, conditions: [{ field: 'trigger.data.from', op: 'lt', value: '2027-01-01T00:00:00Z' }, { field: 'trigger.data.stageKey', op: 'eq', value: 'proposal' }] },
      { trigger: { type: 'stageEntered', stage: 'proposal' }, conditions: [{ field: 'trigger.from', op: 'eq', value: 'new' }, { field: 'trigger.pipelineId', op: 'present' }, { field: 'trigger.data.changes', op: 'present' }] },
      { trigger: { type: 'fieldChanged', entity: 'deal', field: 'probability' }, conditions: [{ field: 'trigger.from', op: 'lt', value: 50 }, { field: 'trigger.to', op: 'gte', value: 50 }] },
      { trigger: { type: 'fieldChanged', entity: 'deal', field: 'value' }, conditions: [{ field: 'trigger.to.amount', op: 'gt', value: 1000 }] },
      { trigger: { type: 'taskDue', before: { amount: 1, unit: 'days' } }, conditions: [{ field: 'trigger.to', op: 'lt', value: '2027-01-01' }, { field: 'status', op: 'eq', value: 'open' }, { field: 'priority', op: 'in', value: ['high', 'urgent'] }] },
      { trigger: { type: 'timeInStage', stage: 'proposal', for: { amount: 1, unit: 'days' } }, conditions: [{ field: 'trigger.stage', op: 'eq', value: 'proposal' }, { field: 'trigger.at', op: 'present' }] },
      { trigger: { type: 'event', event: 'lead.created' }, conditions: [{ field: 'trigger.data.lead.source', op: 'eq', value: 'web-form' }, { field: 'status', op: 'eq', value: 'new' }] },
    ];
    for (const rule of rules) expect(await refusal(crm.automations.define({ name: 'ok', ...rule, actions: emit } as never)), JSON.stringify(rule)).toBe('ok');
  });
});

describe('review 18g #7: enable runs every define check again', () => {
  it('a stage removed while the rule was off, a field the principal no longer reads: enable refuses, the rule stays off', async () => {
    const { crm, pipeline } = await setupAutomations(bot);
    await crm.access.setPolicy({ roles: { bot: { grants } } } as never);
    const staged = await crm.automations.define({ name: 'Proposal', enabled: false, trigger: { type: 'stageEntered', stage: 'proposal' }, actions: emit });
    const valued = await crm.automations.define({ name: 'Big', enabled: false, trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'value.amount', op: 'gt', value: 100 }], actions: emit });
    await crm.pipelines.removeStage(pipeline.id, 'proposal', { moveDealsTo: 'new' } as never);
    await crm.access.setPolicy(noValue as never);
    expect(await refusal(crm.automations.enable(staged.id))).toEqual([expect.stringMatching(/^trigger\.stage: no pipeline has a stage "proposal"/)]);
    expect(await refusal(crm.automations.enable(valued.id))).toEqual([expect.stringMatching(/^conditions\.0\.field: the service principal "bot" may not read value\.amount/)]);
    expect((await crm.automations.list()).map((r) => r.enabled)).toEqual([false, false]);
    // Once the rule fits again, it is switched on.
    await crm.access.setPolicy({ roles: { bot: { grants } } } as never);
    expect((await crm.automations.enable(valued.id)).enabled).toBe(true);
  });
});
