import { expect } from 'vitest';
import { isCrmError, type StorageAdapter } from '@crmkit/core';
import { setupAutomations } from './automation-setup.js';

/**
 * The scenarios of review 18g (#3–#7) that write and run: shared by the memory test (`review-18g.test.ts`)
 * and the SQLite one (`packages/storage-sqlite/test/automation-review-18g.test.ts`). `storage` makes a
 * fresh adapter (`undefined`: memory).
 */
export type MakeStorage = () => StorageAdapter;

/** The VALIDATION issues of a refused call, as `path: message`; `'ok'` when it succeeded. */
export async function refusal(call: Promise<unknown>): Promise<string[] | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (!isCrmError(error, 'VALIDATION')) throw error;
    return error.details.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }
}

export const emit = [{ type: 'emit' as const, name: 'seen' }];
const grants = { deal: { '*': 'all' }, pipeline: { read: 'all' }, task: { '*': 'all' }, activity: { '*': 'all' }, contact: { '*': 'all' }, lead: { '*': 'all' }, company: { '*': 'all' } } as const;
const noValue = { roles: { bot: { grants, fields: { deal: { read: { deny: ['value'] } } } } } };
const bot = { servicePrincipal: { userId: 'bot', roles: ['bot'] } };

/** define refuses a field trigger, trigger.data paths and stage triggers reading what the principal may not read. */
export async function definesRefuseHiddenReads(storage?: MakeStorage): Promise<void> {
  const { crm } = await setupAutomations(bot, storage);
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
  // Time triggers: the stage entry, a task's due time.
  await crm.access.setPolicy({ roles: { bot: { grants, fields: { deal: { read: { deny: ['stageEnteredAt'] } }, task: { read: { deny: ['dueAt'] } } } } } } as never);
  expect(await refusal(crm.automations.define({ name: 'Stuck', trigger: { type: 'timeInStage', stage: 'proposal', for: { amount: 1, unit: 'days' } }, actions: emit }))).toEqual([expect.stringMatching(/^trigger\.stage: .*stageEnteredAt of deal records/)]);
  expect(await refusal(crm.automations.define({ name: 'Due', trigger: { type: 'taskDue', before: { amount: 1, unit: 'days' } }, actions: emit }))).toEqual([expect.stringMatching(/^trigger\.before: .*dueAt of task records/)]);
  // Link counts of merges: only for a principal reaching every record.
  await crm.access.setPolicy({ roles: { bot: { grants: { ...grants, deal: { read: 'own' } } } } } as never);
  expect(await refusal(crm.automations.define({ name: 'Merged', trigger: { type: 'event', event: 'contact.merged' }, conditions: [{ field: 'trigger.data.links', op: 'gt', value: 0 }], actions: emit }))).toEqual([expect.stringMatching(/^conditions\.0\.field: .*trigger\.data\.links/)]);
  expect((await crm.automations.list()).map((r) => r.name)).toEqual(['Titled']);
}

/** a policy changed after define: runs of such rules fail FORBIDDEN and act on nothing. */
export async function policyChangedRunsFail(storage?: MakeStorage): Promise<void> {
  const { crm, pipeline } = await setupAutomations(bot, storage);
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
  // A time rule: the stage entry hidden since define.
  const { crm: other, clock, pipeline: sales } = await setupAutomations(bot, storage);
  await other.access.setPolicy({ roles: { bot: { grants } } } as never);
  const stuck = await other.automations.define({ name: 'Stuck', trigger: { type: 'timeInStage', stage: 'proposal', for: { amount: 1, unit: 'days' } }, actions: [{ type: 'addTag', tag: 'stuck' }] });
  await other.access.setPolicy({ roles: { bot: { grants, fields: { deal: { read: { deny: ['stageEnteredAt'] } } } } } } as never);
  const idle = await other.deals.create({ title: 'Idle', pipelineId: sales.id, stageKey: 'proposal' });
  clock.advance(2 * 86_400_000);
  await other.automations.tick();
  expect((await other.automations.runs({ ruleId: stuck.id })).items.map((r) => [r.status, r.error?.code])).toEqual([['failed', 'FORBIDDEN']]);
  expect((await other.deals.get(idle.id)).tags).toEqual([]);
}

/** the triggering event is judged as the principal sees it: a removed deal it could not read is no run. */
export async function removedRecordAsSeen(storage?: MakeStorage): Promise<void> {
  const { crm, pipeline } = await setupAutomations(bot, storage);
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
}

/** taskDue: updateFields and assignOwner escalate the task. */
export async function taskDueEscalates(storage?: MakeStorage): Promise<void> {
  const { crm, clock, pipeline } = await setupAutomations({}, storage);
  const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'carl' });
  const task = await crm.tasks.create({ subject: 'Send offer', type: 'call', dueAt: new Date(clock.now() + 2 * 86_400_000).toISOString(), dealId: deal.id, ownerId: 'carl' });
  await crm.automations.define({ name: 'Escalate', trigger: { type: 'taskDue', before: { amount: 1, unit: 'days' } }, actions: [{ type: 'updateFields', set: { priority: 'urgent', notes: 'escalated' } }, { type: 'assignOwner', userId: 'boss' }] });
  clock.advance(1.5 * 86_400_000);
  await crm.automations.tick();
  const after = await crm.tasks.get(task.id);
  expect([after.priority, after.notes, after.ownerId]).toEqual(['urgent', 'escalated', 'boss']);
}

/** task.completed: createTask makes the follow-up, linked where the task links; an activity for the task fulfils it. */
export async function taskCompletedFollowUp(storage?: MakeStorage): Promise<void> {
  const { crm, pipeline } = await setupAutomations({}, storage);
  const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'carl' });
  await crm.automations.define({ name: 'Follow up', trigger: { type: 'event', event: 'task.completed' }, conditions: [{ field: 'subject', op: 'eq', value: 'Demo' }], actions: [{ type: 'createTask', task: { subject: 'Ask for feedback', type: 'call', due: { amount: 1, unit: 'days' } } }, { type: 'logActivity', activity: { kind: 'note', subject: 'Demo done' } }] });
  const demo = await crm.tasks.create({ subject: 'Demo', type: 'meeting', dealId: deal.id, ownerId: 'dora' });
  await crm.tasks.complete(demo.id);
  await crm.automations.drain();
  const tasks = (await crm.tasks.list({ limit: 10 })).items.filter((t) => t.id !== demo.id);
  expect(tasks.map((t) => [t.subject, t.dealId, t.ownerId])).toEqual([['Ask for feedback', deal.id, 'dora']]);
  const activities = (await crm.activities.list()).items;
  expect(activities.map((a) => [a.subject, a.taskId, a.dealId])).toEqual([['Demo done', demo.id, deal.id]]);
}

/** activity.logged: createTask makes the call-back; a manual activity rule logs a note beside it. */
export async function activityCallBack(storage?: MakeStorage): Promise<void> {
  const { crm } = await setupAutomations({}, storage);
  const ada = await crm.contacts.create({ name: 'Ada', ownerId: 'anna' });
  await crm.automations.define({ name: 'Call back', trigger: { type: 'event', event: 'activity.logged' }, conditions: [{ field: 'kind', op: 'eq', value: 'call' }, { field: 'outcome', op: 'eq', value: 'no answer' }], actions: [{ type: 'createTask', task: { subject: 'Call again', type: 'call', due: { amount: 1, unit: 'days' }, assignee: { kind: 'user', userId: 'anna' } } }] });
  const note = await crm.automations.define({ name: 'Note', trigger: { type: 'manual', entity: 'activity' }, actions: [{ type: 'logActivity', activity: { kind: 'note', subject: 'Checked' } }] });
  const call = await crm.activities.log({ kind: 'call', outcome: 'no answer', contactId: ada.id });
  await crm.automations.drain();
  expect((await crm.tasks.list()).items.map((t) => [t.subject, t.contactId, t.ownerId])).toEqual([['Call again', ada.id, 'anna']]);
  expect((await crm.automations.trigger(note.id, { type: 'activity', id: call.id }))?.status).toBe('done');
  expect((await crm.activities.list()).items.map((a) => [a.subject ?? a.kind, a.contactId]).sort()).toEqual([['Checked', ada.id], ['call', ada.id]]);
}

/** a merge and its undo start rules on the survivor. */
export async function mergeStartsRules(storage?: MakeStorage): Promise<void> {
  const { crm } = await setupAutomations({}, storage);
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
}

/** a removed record: its rule tests the record as its event carries it and may only emit or send. */
export async function removedRecordRule(storage?: MakeStorage): Promise<void> {
  const { crm, pipeline, messenger } = await setupAutomations({}, storage);
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
  // The record a removed event carries must be its subject.
  expect(await refusal(crm.automations.simulate(rule.id, { type: 'deal.removed', subjectType: 'deal', subjectId: small.id, data: { deal: { id: big.id } } } as never))).toEqual([expect.stringMatching(/^event\.data\.deal: must be the removed deal/)]);
}

/** a stage removed while the rule was off, a field the principal no longer reads: enable refuses, the rule stays off. */
export async function enableRechecks(storage?: MakeStorage): Promise<void> {
  const { crm, pipeline } = await setupAutomations(bot, storage);
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
}
