import { expect } from 'vitest';
import { isCrmError, type CrmEvent, type StorageAdapter } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

/**
 * The open findings of review 18f (fix18m #1-#3) as scenarios on one storage: shared by the memory test
 * (`fix18m.test.ts`) and the SQLite one (`packages/storage-sqlite/test/automation-fix18m.test.ts`).
 * `storage` makes a fresh adapter (`undefined`: memory).
 */
export type MakeStorage = (() => StorageAdapter) | undefined;

const STAGES = [
  { key: 'new', name: 'New' },
  { key: 'proposal', name: 'Proposal' },
  { key: 'negotiation', name: 'Negotiation' },
  { key: 'won', name: 'Won', kind: 'won' as const },
  { key: 'lost', name: 'Lost', kind: 'lost' as const },
];

async function boot(storage: MakeStorage) {
  const test = await createTestCrm(storage ? { storage: storage() as never } : {});
  const pipeline = await test.crm.pipelines.create({ name: 'Sales', stages: STAGES });
  return { ...test, pipeline };
}

type Issue = { path: (string | number)[]; code: string; message: string };

async function refusal(promise: Promise<unknown>): Promise<{ code: string; issues: Issue[] }> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isCrmError(error)) throw new Error(`expected a CrmError, got ${String(error)}`);
  return { code: error.code, issues: (error.details as { issues?: Issue[] } | undefined)?.issues ?? [] };
}

/**
 * #1: pipeline edits that would leave an enabled rule pointing at a stage that is gone (or change what
 * its moves do so that define would refuse it) are refused with VALIDATION naming the rule, writing
 * nothing; disabled rules do not hold an edit back, and `enable` checks them again.
 */
export async function pipelineEditsCheckRules(storage: MakeStorage): Promise<void> {
  const { crm, pipeline } = await boot(storage);
  const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
  await crm.deals.advance(deal.id); // in proposal
  const call = await crm.automations.define({ name: 'Call after the proposal', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'addTag', tag: 'call' }] });
  const push = await crm.automations.define({ name: 'Push to negotiation', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'advance', toStage: 'negotiation' }] });
  const watch = await crm.automations.define({ name: 'In negotiation', trigger: { type: 'fieldChanged', entity: 'deal', field: 'title' }, conditions: [{ field: 'stageKey', op: 'in', value: ['negotiation', 'won'] }], actions: [{ type: 'emit', name: 'watched' }] });
  const before = await crm.pipelines.get(pipeline.id);
  const stored = async () => {
    const now = await crm.pipelines.get(pipeline.id);
    expect(now.version).toBe(before.version);
    expect(now.stages.map((s) => s.key)).toEqual(before.stages.map((s) => s.key));
    expect((await crm.deals.get(deal.id)).stageKey).toBe('proposal');
  };

  // Removing the stage a trigger watches (its deals would move, the rule would never fire again).
  const removed = await refusal(crm.pipelines.removeStage(pipeline.id, 'proposal', { moveDealsTo: 'new' }));
  expect(removed.code).toBe('VALIDATION');
  expect(removed.issues).toHaveLength(1);
  expect(removed.issues[0]).toMatchObject({ code: 'in_use' });
  expect(removed.issues[0]!.message).toContain('"Call after the proposal"');
  expect(removed.issues[0]!.message).toContain(call.id);
  expect(removed.issues[0]!.message).toContain('trigger.stage');
  await stored();
  // Removing a stage an advance moves to and a condition tests: both rules named.
  const target = await refusal(crm.pipelines.removeStage(pipeline.id, 'negotiation'));
  expect(target.code).toBe('VALIDATION');
  expect(target.issues.map((i) => i.message.match(/"([^"]+)"/)![1])).toEqual(['Push to negotiation', 'In negotiation']);
  expect(target.issues[0]!.message).toContain('actions.0.toStage');
  expect(target.issues[1]!.message).toContain('conditions.0.value');
  await stored();
  // Reordering so that a rule's advance has no next stage: refused too. (An order in which the advance
  // still has a next stage is accepted: advance without toStage means the next one, in the current order.)
  const next = await crm.automations.define({ name: 'Qualify new deals', trigger: { type: 'stageEntered', stage: 'new' }, actions: [{ type: 'advance' }] });
  const reorder = await refusal(crm.pipelines.reorderStages(pipeline.id, { keys: ['proposal', 'negotiation', 'new', 'won', 'lost'] }));
  expect(reorder.code).toBe('VALIDATION');
  expect(reorder.issues.map((i) => i.message.match(/"([^"]+)"/)![1])).toEqual(['Qualify new deals']);
  expect(reorder.issues[0]!.message).toContain('no next stage');
  await stored();
  await crm.automations.disable(next.id);
  // The other edits too: a settings change that forbids the rule's move, a stage rule it breaks.
  const lose = await crm.automations.define({ name: 'Lose on price', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'lose', reason: 'price' }] });
  const settings = await refusal(crm.pipelines.update(pipeline.id, { settings: { lostReasons: [{ key: 'timing', label: 'Timing' }] } }));
  expect(settings.issues.map((i) => i.message.match(/"([^"]+)"/)![1])).toEqual(['Lose on price']);
  expect(settings.issues[0]!.message).toContain('actions.0.reason');
  await stored();

  // An edit no rule depends on goes through; so does one whose rules are switched off first.
  await crm.pipelines.updateStage(pipeline.id, 'proposal', { name: 'Offer' });
  for (const rule of [call, push, watch, lose]) await crm.automations.disable(rule.id);
  await crm.pipelines.removeStage(pipeline.id, 'proposal', { moveDealsTo: 'new' });
  expect((await crm.pipelines.get(pipeline.id)).stages.map((s) => s.key)).toEqual(['new', 'negotiation', 'won', 'lost']);
  // A rule left pointing at the removed stage cannot be switched on again (nor can it be edited into use).
  const again = await refusal(crm.automations.enable(call.id));
  expect(again.code).toBe('VALIDATION');
  expect(again.issues.map((i) => i.path.join('.'))).toEqual(['trigger.stage']);
  expect((await crm.automations.get(call.id)).enabled).toBe(false);
  await crm.automations.enable(push.id); // negotiation is still there

  // A rule of another pipeline (or naming a stage another pipeline keeps) does not hold an edit back.
  const other = await crm.pipelines.create({ name: 'Renewals', stages: [{ key: 'new', name: 'New' }, { key: 'review', name: 'Review' }, { key: 'renewed', name: 'Renewed', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.automations.define({ name: 'Review', trigger: { type: 'stageEntered', stage: 'review', pipelineId: other.id }, actions: [{ type: 'addTag', tag: 'review' }] });
  await crm.pipelines.addStage(pipeline.id, { stage: { key: 'review', name: 'Review' }, before: 'negotiation' });
  await crm.pipelines.removeStage(pipeline.id, 'review');
  expect((await refusal(crm.pipelines.removeStage(other.id, 'review'))).code).toBe('VALIDATION');
  await crm.close();
}

/**
 * #2: a merge that changes the survivor's fields records `<entity>.updated` with the changes (old and
 * new values) as an ordinary update does — field rules fire, consumers see it — and so does its undo.
 */
export async function mergesRecordUpdates(storage: MakeStorage): Promise<void> {
  const { crm } = await boot(storage);
  const changed = await crm.automations.define({ name: 'E-mail changed', trigger: { type: 'fieldChanged', entity: 'contact', field: 'email', from: 'old@example.com', to: 'new@example.com' }, actions: [{ type: 'emit', name: 'emailChanged' }] });
  const back = await crm.automations.define({ name: 'E-mail back', trigger: { type: 'fieldChanged', entity: 'contact', field: 'email', from: 'new@example.com', to: 'old@example.com' }, actions: [{ type: 'emit', name: 'emailBack' }] });
  const owner = await crm.automations.define({ name: 'Lead to Ben', trigger: { type: 'fieldChanged', entity: 'lead', field: 'ownerId', to: 'ben' }, actions: [{ type: 'addTag', tag: 'ben' }] });
  const company = await crm.companies.create({ name: 'Acme' });
  const a = await crm.contacts.create({ name: 'Ada', email: 'old@example.com', companyId: company.id });
  const b = await crm.contacts.create({ name: 'Ada L', email: 'new@example.com' });
  const l1 = await crm.leads.create({ name: 'Lead', ownerId: 'anna' });
  const l2 = await crm.leads.create({ name: 'Lead 2', ownerId: 'ben' });
  await crm.automations.drain();
  const head = await crm.events.head();

  const merged = await crm.merges.contacts(a.id, [b.id], { fields: { email: b.id } });
  await crm.merges.leads(l1.id, [l2.id], { fields: { ownerId: l2.id } });
  await crm.automations.drain();
  expect((await crm.automations.runs({ ruleId: changed.id })).items.map((r) => [r.status, r.subjectId])).toEqual([['done', a.id]]);
  expect((await crm.automations.runs({ ruleId: owner.id })).items.map((r) => [r.status, r.subjectId])).toEqual([['done', l1.id]]);
  expect((await crm.leads.get(l1.id)).tags).toEqual(['ben']);
  // The update event is an ordinary one: changes with from / to, refs to what the card links to.
  const updates = (await crm.events.read({ after: head, types: ['contact.updated'] })).events.filter((e) => e.subjectId === a.id);
  expect(updates).toHaveLength(1);
  expect(updates[0]!.data).toEqual({ changes: { email: { from: 'old@example.com', to: 'new@example.com' } } });
  expect(updates[0]!.refs).toContain(`company:${company.id}`);
  // A merge that changes no field of the survivor records no update.
  const c = await crm.contacts.create({ name: 'Ada M' });
  const quiet = await crm.events.head();
  await crm.merges.contacts(a.id, [c.id]);
  expect((await crm.events.read({ after: quiet, types: ['contact.updated'] })).events.filter((e) => e.subjectId === a.id)).toEqual([]);
  await crm.merges.undo((await crm.merges.list({ survivorId: a.id })).items[0]!.id);

  // Undoing the first merge changes the e-mail back: recorded, and the rule watching that fires.
  await crm.merges.undo(merged.merge.id);
  await crm.automations.drain();
  expect((await crm.contacts.get(a.id)).email).toBe('old@example.com');
  expect((await crm.automations.runs({ ruleId: back.id })).items.map((r) => [r.status, r.subjectId])).toEqual([['done', a.id]]);
  expect((await crm.automations.runs({ ruleId: changed.id })).items).toHaveLength(1);
  await crm.close();
}

/**
 * #3: what a real run records (run log, `automation.ran`, the task and activity it creates and their
 * events) reaches a view only as its field rules allow — as the records do: a hidden link is in no
 * payload and no ref, and the timeline of the linked record does not list events that only that hidden
 * link ties to it.
 */
export async function runEventsFollowFieldRules(storage: MakeStorage): Promise<void> {
  const { crm, pipeline } = await boot(storage);
  const hidden = ['ownerId', 'contactId'];
  await crm.access.setPolicy({
    roles: {
      support: {
        grants: { deal: { read: 'all' }, contact: { read: 'all' }, task: { read: 'all' }, activity: { read: 'all' }, pipeline: { read: 'all' } },
        fields: { deal: { read: { deny: hidden } }, task: { read: { deny: hidden } }, activity: { read: { deny: [...hidden, 'participants'] } } },
      },
      all: { grants: { deal: { read: 'all' }, contact: { read: 'all' }, task: { read: 'all' }, activity: { read: 'all' }, pipeline: { read: 'all' } } },
      bot: { grants: { deal: { '*': 'all' }, contact: { '*': 'all' }, task: { '*': 'all' }, activity: { '*': 'all' }, pipeline: { read: 'all' } } },
    },
    defaultRoles: ['bot'],
  } as never);
  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  const ann = crm.as({ userId: 'ann', roles: ['all'] });
  const heard: { sue: CrmEvent[]; ann: CrmEvent[] } = { sue: [], ann: [] };
  for (const type of ['deal.created', 'task.created', 'activity.logged', 'automation.ran'] as const) {
    sue.on(type as never, (e: CrmEvent) => void heard.sue.push(e));
    ann.on(type as never, (e: CrmEvent) => void heard.ann.push(e));
  }
  const rule = await crm.automations.define({
    name: 'Follow up',
    trigger: { type: 'event', event: 'deal.created' },
    actions: [
      { type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' }, assignee: { kind: 'dealOwner' } } },
      { type: 'logActivity', activity: { kind: 'note', subject: 'Noted' } },
    ],
  });
  const contact = await crm.contacts.create({ name: 'Hidden Contact' });
  const deal = await crm.deals.create({ title: 'Secret', pipelineId: pipeline.id, contactId: contact.id, ownerId: 'zorro-owner' });
  await crm.automations.drain();
  const [task] = (await crm.tasks.list({})).items;
  expect(task).toMatchObject({ ownerId: 'zorro-owner', contactId: contact.id, dealId: deal.id });

  const seenBy = async (view: typeof sue) => ({
    runs: (await view.automations.runs({ record: { type: 'deal', id: deal.id } })).items,
    dealTimeline: (await view.timeline({ type: 'deal', id: deal.id })).items,
    contactTimeline: (await view.timeline({ type: 'contact', id: contact.id })).items,
    feed: (await view.events.read({ limit: 1000 })).events,
    task: await view.tasks.get(task!.id),
  });
  const theirs = await seenBy(sue);
  expect(JSON.stringify({ ...theirs, heard: heard.sue })).not.toContain('zorro-owner');
  // The contact's id only in the contact's own events: no payload, no ref of the deal's, the task's, the activity's or the run's.
  const others = [...theirs.dealTimeline, ...theirs.contactTimeline, ...theirs.feed, ...heard.sue].filter((e) => e.subjectId !== contact.id);
  expect(JSON.stringify({ others, runs: theirs.runs, task: theirs.task })).not.toContain(contact.id);
  expect(theirs.task).not.toHaveProperty('ownerId');
  expect(theirs.task).not.toHaveProperty('contactId');
  // What the view may know stays: the run, its actions, the task and activity, on the deal's timeline.
  expect(theirs.runs.map((r) => [r.ruleId, r.status, r.actions.map((a) => a.type)])).toEqual([[rule.id, 'done', ['createTask', 'logActivity']]]);
  expect(theirs.dealTimeline.map((e) => e.type)).toEqual(['automation.ran', 'activity.logged', 'task.created', 'deal.created']);
  expect(heard.sue.map((e) => e.type).sort()).toEqual(['activity.logged', 'automation.ran', 'deal.created', 'task.created']);
  // The contact's timeline: only what the view can tie to it (its own creation), not the events the hidden links tie to it.
  expect(theirs.contactTimeline.map((e) => e.type)).toEqual(['contact.created']);
  expect(theirs.feed.filter((e) => e.subjectId === deal.id || e.subjectId === task!.id).length).toBeGreaterThan(0);

  // A view that reads the links sees them, as on the records.
  const mine = await seenBy(ann);
  expect(mine.task).toMatchObject({ ownerId: 'zorro-owner', contactId: contact.id });
  expect(mine.dealTimeline.find((e) => e.type === 'automation.ran')!.refs).toContain(`contact:${contact.id}`);
  expect(mine.contactTimeline.map((e) => e.type)).toEqual(['automation.ran', 'activity.logged', 'task.created', 'deal.created', 'contact.created']);
  expect(heard.ann.find((e) => e.type === 'task.created')!.refs).toContain(`contact:${contact.id}`);
  await crm.close();
}
