import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { setupAutomations } from './automation-setup.js';
import { automations } from '@crmkit/core/automations';

const setup = setupAutomations;

async function failure(promise: Promise<unknown>): Promise<{ code: string; messages: string[]; details: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (isCrmError(error)) {
      const issues = (error.details as { issues?: { message: string }[] }).issues ?? [];
      return { code: error.code, messages: issues.map((i) => i.message), details: error.details };
    }
    throw error;
  }
  throw new Error('expected a CrmError');
}

describe('editing a rule that was read', () => {
  it('define takes the read shape back (a new revision); a stale version is a CONFLICT', async () => {
    const { crm } = await setup();
    const rule = await crm.automations.define({ name: 'Tag', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'new' }] });
    const read = await crm.automations.get(rule.id);
    const edited = await crm.automations.define({ ...read, name: 'Tag new deals' });
    expect([edited.id, edited.name, edited.revision, edited.version, edited.createdAt]).toEqual([rule.id, 'Tag new deals', 2, 2, rule.createdAt]);
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['Tag new deals']);
    // The first read is stale now: its version (1) is not the stored one (2).
    const stale = await failure(crm.automations.define({ ...read, name: 'Lost edit' }));
    expect([stale.code, (stale.details as { actualVersion: number }).actualVersion]).toEqual(['CONFLICT', 2]);
    expect((await crm.automations.get(rule.id)).name).toBe('Tag new deals');
    // Listed rules round-trip too; another tenant's rule does not.
    const [listed] = await crm.automations.list();
    expect((await crm.automations.define({ ...listed!, enabled: false })).enabled).toBe(false);
    expect((await failure(crm.automations.define({ ...listed!, version: 3, tenantId: 'other' }))).code).toBe('VALIDATION');
  });

  it('update(id, patch) changes the fields given, checked like define', async () => {
    const { crm } = await setup();
    const rule = await crm.automations.define({ name: 'Tag', description: 'tags', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'new' }] });
    const updated = await crm.automations.update(rule.id, { actions: [{ type: 'addTag', tag: 'fresh' }], description: undefined });
    expect([updated.name, updated.description, updated.actions, updated.revision]).toEqual(['Tag', undefined, [{ type: 'addTag', tag: 'fresh' }], 2]);
    expect((await failure(crm.automations.update(rule.id, { actions: [{ type: 'advance' }], trigger: { type: 'event', event: 'lead.created' } }))).code).toBe('VALIDATION');
    expect((await failure(crm.automations.update(rule.id, { name: 'x', version: 1 }))).code).toBe('CONFLICT');
    expect((await failure(crm.automations.update('nope', { name: 'x' }))).code).toBe('NOT_FOUND');
    expect((await crm.automations.get(rule.id)).revision).toBe(2);
  });
});

describe('waiting runs of a rule that is turned off', () => {
  it('are cancelled with a logged reason (on the timeline); an edit lets them continue with their revision', async () => {
    const { crm, clock, pipeline } = await setup();
    const wait = [{ type: 'addTag' as const, tag: 'a' }, { type: 'wait' as const, for: { amount: 1, unit: 'hours' as const } }, { type: 'addTag' as const, tag: 'b' }];
    const off = await crm.automations.define({ name: 'Off', trigger: { type: 'event', event: 'deal.created' }, actions: wait });
    const edited = await crm.automations.define({ name: 'Edited', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'c' }, { type: 'wait', for: { amount: 1, unit: 'hours' } }, { type: 'addTag', tag: 'd' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.automations.drain();
    expect((await crm.automations.runs()).items.map((r) => r.status)).toEqual(['waiting', 'waiting']);
    await crm.automations.disable(off.id);
    await crm.automations.update(edited.id, { actions: [{ type: 'addTag', tag: 'x' }] });
    const [cancelled] = (await crm.automations.runs({ ruleId: off.id })).items;
    expect([cancelled!.status, cancelled!.reason, cancelled!.resumeAt]).toEqual(['cancelled', 'cancelled: the rule was disabled', undefined]);
    clock.advance(3_600_000);
    await crm.scheduler.tick();
    expect((await crm.deals.get(deal.id)).tags).toEqual(['a', 'c', 'd']);
    const [continued] = (await crm.automations.runs({ ruleId: edited.id })).items;
    expect([continued!.status, continued!.revision]).toEqual(['done', 1]);
    // Nothing is left waiting, even after enabling the rule again.
    await crm.automations.enable(off.id);
    clock.advance(3_600_000);
    await crm.scheduler.tick();
    expect((await crm.automations.runs({ ruleId: off.id })).items.map((r) => r.status)).toEqual(['cancelled']);
    const timeline = (await crm.timeline({ type: 'deal', id: deal.id })).items.filter((e) => e.type === ('automation.ran' as never) && (e.data as { ruleId: string }).ruleId === off.id);
    expect(timeline.map((e) => (e.data as { status: string }).status)).toEqual(['cancelled', 'waiting']);
  });

  it('a run left waiting by a rule disabled without the cancel (a race) is cancelled by the tick, not stuck', async () => {
    const { crm, clock, storage, pipeline } = await setup();
    const rule = await crm.automations.define({ name: 'Off', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'wait', for: { amount: 1, unit: 'hours' } }, { type: 'addTag', tag: 'b' }] });
    await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.automations.drain();
    // Simulate the race: the rule row turns off without its waiting runs being visited.
    await storage.transaction('rw', async (tx) => {
      const [row] = await tx.getMany('automationRule', 'test', [rule.id]);
      await tx.write('automationRule', 'test', [{ type: 'update', row: { ...row!, enabled: false, version: row!.version + 1 }, expectedVersion: row!.version }]);
    });
    clock.advance(3_600_000);
    await crm.scheduler.tick();
    const [run] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect([run!.status, run!.reason]).toEqual(['cancelled', 'cancelled: the rule was disabled']);
  });
});

describe('chains through host handlers', () => {
  it('a host handler that writes through causedBy(event) stays in the chain: the rule does not trigger itself again', async () => {
    const { crm, pipeline } = await setup();
    const rule = await crm.automations.define({ name: 'Ping', trigger: { type: 'fieldChanged', entity: 'deal', field: 'title' }, actions: [{ type: 'emit', name: 'titleChanged' }] });
    const pending: Promise<unknown>[] = [];
    // The host answers the custom event by writing the deal again (which changes the title again).
    crm.on('custom.titleChanged' as never, (event: { subjectId: string }) => {
      const via = crm.automations.causedBy<typeof crm>(event as never);
      pending.push(crm.deals.get(event.subjectId).then((d) => via.deals.update(d.id, { title: `${d.title}!` })));
    });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.deals.update(deal.id, { title: 'B' });
    for (let i = 0; i < 5; i++) {
      await crm.automations.drain();
      await Promise.all(pending.splice(0));
    }
    expect((await crm.deals.get(deal.id)).title).toBe('B!');
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => [r.status, r.depth, r.reason?.split(':')[0]])).toEqual([['skipped', 1, 'loop'], ['done', 0, undefined]]);
    // The host's write carries the run's cause (stored in the feed, and on the event handed to handlers).
    const updates = (await crm.events.read({ after: 0, limit: 100, types: ['deal.updated'] })).events;
    expect(updates.map((e) => (e as { cause?: { ruleId: string } }).cause?.ruleId)).toEqual([undefined, rule.id]);
  });

  it('the depth limit counts runs of a chain through host handlers', async () => {
    const { crm, pipeline } = await setup({ maxDepth: 1 });
    const a = await crm.automations.define({ name: 'A', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'emit', name: 'hopA' }] });
    const b = await crm.automations.define({ name: 'B', trigger: { type: 'fieldChanged', entity: 'deal', field: 'title' }, actions: [{ type: 'emit', name: 'hopB' }] });
    const c = await crm.automations.define({ name: 'C', trigger: { type: 'fieldChanged', entity: 'deal', field: 'expectedCloseDate' }, actions: [{ type: 'addTag', tag: 'c' }] });
    const pending: Promise<unknown>[] = [];
    const host = (name: string, patch: Record<string, unknown>) =>
      crm.on(name as never, (event: { subjectId: string }) => void pending.push(crm.automations.causedBy<typeof crm>(event as never).deals.update(event.subjectId, patch)));
    host('custom.hopA', { title: 'hop' });
    host('custom.hopB', { expectedCloseDate: '2026-06-01' });
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    for (let i = 0; i < 5; i++) {
      await crm.automations.drain();
      await Promise.all(pending.splice(0));
    }
    const statusOf = async (id: string) => (await crm.automations.runs({ ruleId: id })).items.map((r) => [r.status, r.depth, r.reason?.split(':')[0]]);
    expect(await statusOf(a.id)).toEqual([['done', 0, undefined]]);
    expect(await statusOf(b.id)).toEqual([['done', 1, undefined]]);
    expect(await statusOf(c.id)).toEqual([['skipped', 2, 'depthLimit']]);
    expect((await crm.deals.get(deal.id)).tags).toEqual([]);
  });

  it('an event no automation caused: causedBy writes as the crm itself; a forged cause is refused', async () => {
    const { crm, pipeline } = await setup();
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    const [created] = (await crm.events.read({ after: 0, limit: 10, types: ['deal.created'] })).events;
    await crm.automations.causedBy<typeof crm>(created!).deals.update(deal.id, { title: 'B' });
    const [updated] = (await crm.events.read({ after: 0, limit: 10, types: ['deal.updated'] })).events;
    expect([(updated as { cause?: unknown }).cause, updated!.actorId]).toEqual([undefined, created!.actorId]);
    expect(() => crm.automations.causedBy({ ...created!, cause: { runId: 1 } } as never)).toThrow(/causedBy/);
  });
});

describe('causedBy on a view', () => {
  it('writes as the view’s principal, within its policy, and keeps the cause', async () => {
    const { crm, pipeline } = await setup({ servicePrincipal: { userId: 'bot', roles: ['bot'] } });
    await crm.access.setPolicy({ roles: { bot: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' } } }, rep: { grants: { deal: { read: 'own', update: 'own' }, pipeline: { read: 'all' } } } } });
    const rule = await crm.automations.define({ name: 'Ping', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'emit', name: 'made' }] });
    const mine = await crm.deals.create({ title: 'Mine', pipelineId: pipeline.id, ownerId: 'ben' });
    const theirs = await crm.deals.create({ title: 'Theirs', pipelineId: pipeline.id, ownerId: 'anna' });
    await crm.automations.drain();
    const made = (await crm.events.read({ after: 0, limit: 100, types: ['custom.made' as never] })).events;
    const ben = crm.as({ userId: 'ben', roles: ['rep'] });
    const byDeal = new Map(made.map((e) => [e.subjectId, e]));
    await ben.automations.causedBy<typeof ben>(byDeal.get(mine.id)!).deals.update(mine.id, { title: 'Mine!' });
    expect((await failure(ben.automations.causedBy<typeof ben>(byDeal.get(theirs.id)!).deals.update(theirs.id, { title: 'Theirs!' }))).code).toBe('NOT_FOUND');
    const [updated] = (await crm.events.read({ after: 0, limit: 100, types: ['deal.updated'] })).events;
    expect([updated!.subjectId, updated!.actorId, (updated as { cause?: { ruleId: string } }).cause?.ruleId]).toEqual([mine.id, 'ben', rule.id]);
    expect((await crm.deals.get(theirs.id)).title).toBe('Theirs');
  });
});

describe('actions that contradict the stage rules', () => {
  const strict = (crm: Awaited<ReturnType<typeof setup>>['crm']) =>
    crm.pipelines.create({
      name: 'Strict',
      settings: { allowSkip: false, allowBackward: false },
      stages: [
        { key: 'new', name: 'New', exitRules: [{ type: 'field', field: 'expectedCloseDate', op: 'present' }] },
        { key: 'qualified', name: 'Qualified', entryRules: [{ type: 'hasContact' }, { type: 'field', field: 'custom.budget', op: 'gt', value: 0 }], exitRules: [{ type: 'requiredTasksDone' }], taskTemplates: [{ subject: 'Check budget', type: 'call', required: true, due: { amount: 1, unit: 'days' } }] },
        { key: 'proposal', name: 'Proposal' },
        { key: 'won', name: 'Won', kind: 'won' },
        { key: 'lost', name: 'Lost', kind: 'lost', entryRules: [{ type: 'field', field: 'custom.budget', op: 'present' }] },
      ],
    });

  it('are refused at define with VALIDATION naming the stage rule and the action', async () => {
    const { crm } = await setup();
    const pipeline = await strict(crm);
    await crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'number' });
    const define = (trigger: object, actions: object[]) => failure(crm.automations.define({ name: 'x', trigger: { ...trigger, pipelineId: pipeline.id } as never, actions: actions as never }));
    // An entry rule the rule's own update breaks.
    const entry = await define({ type: 'stageEntered', stage: 'new' }, [{ type: 'updateFields', set: { expectedCloseDate: '2026-03-01', custom: { budget: 0 } } }, { type: 'advance' }]);
    expect([entry.code, (entry.details as { issues: { path: unknown[] }[] }).issues.map((i) => i.path.join('.'))]).toEqual(['VALIDATION', ['actions.1']]);
    expect(entry.messages[0]).toContain('entering "qualified" needs stage.entry.field (custom.budget gt 0), but the rule sets custom to {"budget":0}');
    // An exit rule the rule's own update breaks (the field emptied before the move).
    const exit = await define({ type: 'stageEntered', stage: 'new' }, [{ type: 'updateFields', set: { expectedCloseDate: null } }, { type: 'advance' }]);
    expect(exit.messages[0]).toContain('leaving "new" needs stage.exit.field (expectedCloseDate present)');
    // Required tasks: created by the stage's templates on entry, or by the rule, and still open when it moves on.
    const templates = await define({ type: 'stageEntered', stage: 'qualified' }, [{ type: 'advance' }]);
    expect(templates.messages).toEqual([expect.stringContaining('leaving "qualified" needs stage.exit.requiredTasksDone, but a required task')]);
    const created = await define({ type: 'timeInStage', stage: 'qualified', for: { amount: 3, unit: 'days' } }, [{ type: 'createTask', task: { subject: 'Sign', type: 'todo', required: true, due: { amount: 1, unit: 'days' } } }, { type: 'advance' }]);
    expect(created.messages).toEqual([expect.stringContaining('stage.exit.requiredTasksDone')]);
    // Skips and moves back followed through earlier moves; the lost stage's entry rules.
    const skip = await define({ type: 'stageEntered', stage: 'new' }, [{ type: 'updateFields', set: { expectedCloseDate: '2026-03-01' } }, { type: 'advance' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'advance', toStage: 'new' }]);
    expect(skip.messages).toEqual([expect.stringContaining('does not allow moving back from "qualified" to "new" (pipeline.noBackward)')]);
    const lose = await define({ type: 'stageEntered', stage: 'proposal' }, [{ type: 'updateFields', set: { custom: { budget: null } } }, { type: 'lose', reason: 'price' }]);
    expect(lose.messages).toEqual([expect.stringContaining('entering "lost" needs stage.entry.field (custom.budget present)')]);
    expect(await crm.automations.list()).toEqual([]);
    // A wait in between: the tasks may be done and the fields changed by then — accepted, checked when it runs.
    const later = await crm.automations.define({ name: 'later', trigger: { type: 'stageEntered', stage: 'qualified', pipelineId: pipeline.id }, actions: [{ type: 'wait', for: { amount: 2, unit: 'days' } }, { type: 'advance' }] });
    expect(later.enabled).toBe(true);
  });

  it('only knowable when it runs: the run fails with the funnel RULE_VIOLATION in the run log and on the timeline', async () => {
    const { crm } = await setup({ maxAttempts: 1 });
    const pipeline = await strict(crm);
    const rule = await crm.automations.define({ name: 'Qualify', trigger: { type: 'stageEntered', stage: 'new', pipelineId: pipeline.id }, actions: [{ type: 'updateFields', set: { expectedCloseDate: '2026-03-01' } }, { type: 'advance' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.automations.drain();
    const [run] = (await crm.automations.runs({ ruleId: rule.id })).items;
    const violations = (run!.error?.details as { violations: { rule: string }[] }).violations.map((v) => v.rule).sort();
    expect([run!.status, run!.error?.code, violations]).toEqual(['failed', 'RULE_VIOLATION', ['stage.entry.field', 'stage.entry.hasContact']]);
    // Nothing of the run stayed: its update rolled back with the refused move.
    expect([(await crm.deals.get(deal.id)).stageKey, (await crm.deals.get(deal.id)).expectedCloseDate]).toEqual(['new', undefined]);
    const entry = (await crm.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.type === ('automation.ran' as never));
    expect((entry!.data as { status: string; error: { code: string } }).error.code).toBe('RULE_VIOLATION');
  });
});

describe('feature options', () => {
  it('refuses options that are not an object, as every feature with options does', () => {
    for (const options of [null, [], 'fast', 5]) {
      let error: unknown;
      try {
        automations(options as never);
      } catch (e) {
        error = e;
      }
      expect(isCrmError(error, 'VALIDATION')).toBe(true);
    }
    expect(() => automations()).not.toThrow();
  });
});
