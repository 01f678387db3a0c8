import { describe, expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

// Review 18c #1, #2: every sweep returns; failed runs and continuations are recorded, backed off and parked.
describe('sweeps always end', () => {
  async function failedRunsWhoseConditionsNoLongerHold(n: number) {
    const { crm, clock } = await setupAutomations();
    const p = await crm.pipelines.create({ name: 'P2', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B', entryRules: [{ type: 'hasContact' }] } as never] });
    const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'title', op: 'eq', value: 'X' }], actions: [{ type: 'advance' }] });
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await crm.deals.create({ title: 'X', pipelineId: p.id })).id);
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id, limit: 1 })).items[0]).toMatchObject({ status: 'failed', attempts: 1 });
    for (const id of ids) await crm.deals.update(id, { title: 'Y' });
    clock.advance(5000);
    await crm.automations.drain();
    return { crm, rule };
  }

  it('a failed run whose conditions no longer hold is closed as skipped', async () => {
    const { crm, rule } = await failedRunsWhoseConditionsNoLongerHold(1);
    const [run] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(run).toMatchObject({ status: 'skipped' });
    expect(run!.reason).toMatch(/^conditionsNoLongerHold/);
    expect(run!.resumeAt).toBeUndefined();
  });

  it('drain() returns with 200+ such runs, and closes every one', async () => {
    const { crm, rule } = await failedRunsWhoseConditionsNoLongerHold(205);
    const runs = (await crm.automations.runs({ ruleId: rule.id, limit: 500 })).items;
    expect(runs).toHaveLength(205);
    expect(runs.every((r) => r.status === 'skipped')).toBe(true);
  }, 60_000);

  it('a failed run of a rule edited so it no longer matches is parked (no longer due)', async () => {
    const { crm, clock } = await setupAutomations();
    const p = await crm.pipelines.create({ name: 'P2', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B', entryRules: [{ type: 'hasContact' }] } as never] });
    const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'advance' }] });
    await crm.deals.create({ title: 'X', pipelineId: p.id });
    await crm.automations.drain();
    await crm.automations.update(rule.id, { trigger: { type: 'event', event: 'deal.updated' } });
    clock.advance(5000);
    await crm.automations.drain();
    const [run] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(run).toMatchObject({ status: 'failed', attempts: 1 });
    expect(run!.resumeAt).toBeUndefined();
  });

  it('a continuation that fails is recorded, backed off, then parked', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'Later', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'addTag', tag: 'w' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'advance' }] });
    const d = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    await crm.deals.advance(d.id);
    await crm.automations.drain();
    await crm.deals.lose(d.id, { reason: 'price' } as never);
    clock.advance(86_400_000);
    await crm.automations.tick();
    let [run] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(run).toMatchObject({ status: 'failed', attempts: 1, resumeFrom: 2 });
    expect(run!.error).toBeDefined();
    expect(run!.resumeAt).toBeDefined();
    for (let i = 0; i < 4; i++) {
      clock.advance(5000);
      await crm.automations.tick();
    }
    [run] = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(run).toMatchObject({ status: 'failed', attempts: 3 });
    expect(run!.resumeAt).toBeUndefined();
    // The action before the wait ran once: retries continue after the wait, not from the start.
    expect(run!.actions.filter((a) => a.type === 'addTag')).toHaveLength(1);
  });

  it('a continuation retried after the record is fixed completes from where it waited', async () => {
    const { crm, clock } = await setupAutomations();
    const p = await crm.pipelines.create({ name: 'P2', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B', entryRules: [{ type: 'field', field: 'expectedCloseDate', op: 'present' }] } as never] });
    const rule = await crm.automations.define({ name: 'Later', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'advance' }] });
    const d = await crm.deals.create({ title: 'A', pipelineId: p.id });
    await crm.automations.drain();
    clock.advance(86_400_000);
    await crm.automations.tick();
    expect((await crm.automations.runs({ ruleId: rule.id })).items[0]).toMatchObject({ status: 'failed', attempts: 1 });
    await crm.deals.update(d.id, { expectedCloseDate: '2030-01-01' } as never);
    clock.advance(5000);
    await crm.automations.tick();
    expect((await crm.automations.runs({ ruleId: rule.id })).items[0]).toMatchObject({ status: 'done' });
    expect((await crm.deals.get(d.id)).stageKey).toBe('b');
  });

  it('200 failing continuations do not block a healthy waiting run', async () => {
    const { crm, clock, pipeline } = await setupAutomations();
    await crm.automations.define({ name: 'Later', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'advance' }] });
    const bad: string[] = [];
    for (let i = 0; i < 200; i++) {
      const d = await crm.deals.create({ title: `bad${i}`, pipelineId: pipeline.id });
      await crm.deals.advance(d.id);
      bad.push(d.id);
    }
    await crm.automations.drain();
    for (const id of bad) await crm.deals.lose(id, { reason: 'price' } as never);
    clock.advance(60_000);
    const good = await crm.deals.create({ title: 'good', pipelineId: pipeline.id });
    await crm.deals.advance(good.id);
    await crm.automations.drain();
    clock.advance(86_400_000);
    await crm.automations.tick();
    expect((await crm.deals.get(good.id)).stageKey).toBe('negotiation');
  }, 120_000);
});

// Review 18c #8: simulate's event data must be an object.
describe('simulate event data', () => {
  it.each([null, 5, 'x', []])('data %j is a VALIDATION error at event.data, not a TypeError', async (data) => {
    const { crm } = await setupAutomations();
    const rule = { name: 'e', trigger: { type: 'stageEntered', stage: 'new' }, actions: [{ type: 'emit', name: 'x' }] } as const;
    const error = await crm.automations.simulate(rule as never, { type: 'deal.created', subjectType: 'deal', subjectId: 'x', data } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION' });
    expect(JSON.stringify((error as { details: unknown }).details)).toContain('"data"');
  });
});

// Review 18c #7: a taskDue rule that could never fire is refused.
describe('taskDue before 0', () => {
  it('is a VALIDATION error at trigger.before.amount and stores no rule', async () => {
    const { crm } = await setupAutomations();
    const error = await crm.automations.define({ name: 'At due', trigger: { type: 'taskDue', before: { amount: 0, unit: 'hours' } }, actions: [{ type: 'emit', name: 'x' }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION' });
    expect(JSON.stringify((error as { details: unknown }).details)).toContain('"before","amount"');
    expect(await crm.automations.list()).toHaveLength(0);
  });
});

// Review 18c #5: the rate limit counts a retried/replayed run when it ran, not when it first failed.
describe('rate limit after replay', () => {
  it('a run replayed successfully counts in the window it ran in', async () => {
    const { crm, clock } = await setupAutomations();
    const p = await crm.pipelines.create({ name: 'P2', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B', entryRules: [{ type: 'hasContact' }] } as never] });
    const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'stageEntered', stage: 'a', pipelineId: p.id }, rateLimit: { max: 1, perMinutes: 60 }, actions: [{ type: 'advance' }] });
    const d1 = await crm.deals.create({ title: 'one', pipelineId: p.id });
    for (let i = 0; i < 5; i++) {
      await crm.automations.drain();
      clock.advance(2000);
    }
    clock.advance(2 * 3_600_000);
    const c = await crm.contacts.create({ name: 'C' } as never);
    await crm.deals.update(d1.id, { contactId: c.id } as never);
    const parked = (await crm.automations.runs({ ruleId: rule.id, status: 'failed' })).items;
    expect(parked).toHaveLength(1);
    await crm.automations.replay(rule.id, parked.map((r) => r.eventId!));
    await crm.automations.drain();
    const c2 = await crm.contacts.create({ name: 'C2' } as never);
    await crm.deals.create({ title: 'two', pipelineId: p.id, contactId: c2.id } as never);
    await crm.automations.drain();
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => r.status).sort()).toEqual(['done', 'skipped']);
    expect(runs.find((r) => r.status === 'skipped')!.reason).toMatch(/^rateLimited/);
  });
});
