import { describe, expect, it } from 'vitest';
import type { StageRule } from '@crmkit/core';
import { setupAutomations } from './automation-setup.js';

// Sixth review of issue 18 (review18f): one test per item fixed.
describe('review 18f #6: define checks every stage rule kind against the rule’s own updates', () => {
  // Each kind: the rule, an update that breaks it for sure, and one that keeps it (or leaves it to the stored deal).
  const KINDS: { [K in StageRule['type']]: { rule: Extract<StageRule, { type: K }>; breaks: Record<string, unknown>[]; keeps: Record<string, unknown>[] } } = {
    field: { rule: { type: 'field', field: 'expectedCloseDate', op: 'present' }, breaks: [{ type: 'updateFields', set: { expectedCloseDate: null } }], keeps: [{ type: 'updateFields', set: { expectedCloseDate: '2027-01-01' } }] },
    hasContact: { rule: { type: 'hasContact' }, breaks: [{ type: 'updateFields', set: { contactId: null } }], keeps: [{ type: 'updateFields', set: { title: 'x' } }] },
    hasCompany: { rule: { type: 'hasCompany' }, breaks: [{ type: 'updateFields', set: { companyId: null } }], keeps: [{ type: 'updateFields', set: { companyId: null } }, { type: 'wait', for: { amount: 1, unit: 'days' } }] },
    hasLineItems: { rule: { type: 'hasLineItems' }, breaks: [{ type: 'updateFields', set: { lineItems: [] } }], keeps: [{ type: 'updateFields', set: { lineItems: [{ name: 'Seat', quantity: 1, unitPrice: 100 }] } }] },
    amountPositive: { rule: { type: 'amountPositive' }, breaks: [{ type: 'updateFields', set: { value: { amount: 0, currency: 'USD' } } }], keeps: [{ type: 'updateFields', set: { value: { amount: 5, currency: 'USD' } } }] },
    requiredTasksDone: { rule: { type: 'requiredTasksDone' }, breaks: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' }, required: true } }], keeps: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' } } }] },
  };

  for (const [kind, { rule, breaks, keeps }] of Object.entries(KINDS)) {
    for (const phase of ['exit', 'entry'] as const) {
      if (kind === 'requiredTasksDone' && phase === 'entry') continue; // a stage's tasks are only those of its visit
      it(`${kind} as ${phase} rule`, async () => {
        const { crm } = await setupAutomations();
        const gated = await crm.pipelines.create({ name: 'Gated', stages: [
          { key: 'a', name: 'A', ...(phase === 'exit' ? { exitRules: [rule as StageRule] } : {}) },
          { key: 'b', name: 'B', ...(phase === 'entry' ? { entryRules: [rule as StageRule] } : {}) },
          { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
        const trigger = { type: 'stageEntered', stage: 'a', pipelineId: gated.id } as const;
        const error = await crm.automations.define({ name: 'Breaks', trigger, actions: [...breaks, { type: 'advance' }] as never }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ code: 'stage_rule', message: expect.stringContaining(`stage.${phase}.${kind}`) })] } });
        expect(await crm.automations.list()).toEqual([]);
        const ok = await crm.automations.define({ name: 'Keeps', trigger, actions: [...keeps, { type: 'advance' }] as never });
        expect((await crm.automations.get(ok.id)).enabled).toBe(true);
      });
    }
  }
});

describe('review 18f #7: loop check compares full custom field paths', () => {
  async function withCustom() {
    const setup = await setupAutomations();
    for (const [key, type] of [['segment', 'text'], ['score', 'number'], ['tier', 'text']] as const) await setup.crm.customFields.define({ entity: 'deal', key, label: key, type });
    return setup;
  }

  it('updating custom.score does not count as changing custom.segment: accepted, runs once', async () => {
    const { crm, pipeline } = await withCustom();
    const rule = await crm.automations.define({ name: 'Score on segment', trigger: { type: 'fieldChanged', entity: 'deal', field: 'custom.segment' }, actions: [{ type: 'updateFields', set: { custom: { score: 5 } } }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, custom: { segment: 'a' } });
    await crm.deals.update(deal.id, { custom: { segment: 'b' } });
    await crm.automations.drain();
    await crm.automations.drain();
    expect((await crm.deals.get(deal.id)).custom).toEqual({ segment: 'b', score: 5 });
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.status)).toEqual(['done']);
  });

  it('real loops on custom fields are still refused: the same key, and two rules feeding each other', async () => {
    const { crm } = await withCustom();
    const self = await crm.automations.define({ name: 'Self', trigger: { type: 'fieldChanged', entity: 'deal', field: 'custom.segment' }, actions: [{ type: 'updateFields', set: { custom: { score: 1, segment: 'x' } } }] }).catch((e: unknown) => e);
    expect(self).toMatchObject({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ code: 'cycle' })] } });
    await crm.automations.define({ name: 'Segment to tier', trigger: { type: 'fieldChanged', entity: 'deal', field: 'custom.segment' }, actions: [{ type: 'updateFields', set: { custom: { tier: 'gold' } } }] });
    const back = await crm.automations.define({ name: 'Tier to segment', trigger: { type: 'fieldChanged', entity: 'deal', field: 'custom.tier' }, actions: [{ type: 'updateFields', set: { custom: { segment: 'vip' } } }] }).catch((e: unknown) => e);
    expect(back).toMatchObject({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ code: 'cycle', message: expect.stringContaining('Tier to segment') })] } });
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['Segment to tier']);
  });
});

describe('review 18f #10: simulate checks the event data against the event type', () => {
  const rules = {
    field: { name: 'f', trigger: { type: 'fieldChanged', entity: 'deal', field: 'title' }, actions: [{ type: 'addTag', tag: 'x' }] },
    stage: { name: 's', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'addTag', tag: 'x' }] },
    owner: { name: 'o', trigger: { type: 'fieldChanged', entity: 'deal', field: 'ownerId' }, actions: [{ type: 'addTag', tag: 'x' }] },
  } as const;

  it('refuses data that does not fit, with the path', async () => {
    const { crm, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    const ev = (type: string, data?: unknown) => ({ type, subjectType: 'deal', subjectId: deal.id, ...(data === undefined ? {} : { data }) });
    const cases: [keyof typeof rules, ReturnType<typeof ev>, (string | number)[]][] = [
      ['field', ev('deal.updated', { changes: 'x' }), ['event', 'data', 'changes']],
      ['field', ev('deal.updated'), ['event', 'data', 'changes']],
      ['field', ev('deal.updated', { changes: { title: 'x' } }), ['event', 'data', 'changes', 'title']],
      ['field', ev('deal.updated', { changes: { title: { from: 'A', to: 5 } } }), ['event', 'data', 'changes', 'title', 'to']],
      ['stage', ev('deal.stageChanged', { from: 1, to: 'proposal' }), ['event', 'data', 'from']],
      ['stage', ev('deal.stageChanged', { to: 'proposal' }), ['event', 'data', 'from']],
      ['stage', ev('deal.created', { deal: null }), ['event', 'data', 'deal']],
      ['stage', ev('deal.created', { deal: { id: 'deal_other', stageKey: 'proposal' } }), ['event', 'data', 'deal']],
      ['owner', ev('deal.assigned', {}), ['event', 'data', 'ownerId']],
    ];
    for (const [rule, event, path] of cases) {
      const error = await crm.automations.simulate(rules[rule] as never, event as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(event)).toMatchObject({ code: 'VALIDATION', details: { issues: expect.arrayContaining([expect.objectContaining({ path })]) } });
    }
  });

  it('events as crmkit records them still simulate', async () => {
    const { crm, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, ownerId: 'anna', value: { amount: 100, currency: 'USD' } });
    await crm.deals.update(deal.id, { title: 'B', value: { amount: 200, currency: 'USD' }, expectedCloseDate: '2027-01-01' });
    await crm.deals.advance(deal.id);
    await crm.deals.update(deal.id, { ownerId: 'ben' });
    const events = (await crm.timeline({ type: 'deal', id: deal.id })).items.filter((e) => e.subjectId === deal.id);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['deal.created', 'deal.updated', 'deal.stageChanged']));
    for (const event of events) {
      const rule = event.type === 'deal.stageChanged' || event.type === 'deal.created' ? rules.stage : event.type === 'deal.updated' && 'ownerId' in (event.data as { changes: object }).changes ? rules.owner : rules.field;
      const result = await crm.automations.simulate(rule as never, event as never);
      expect(result.status, event.type).not.toBe('failed');
    }
  });
});
