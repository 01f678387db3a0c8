import { describe, expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

// Triggers on derived deal fields: a stage move applies the stage's probability (and so the weighted
// amount) without a deal.updated; the move's event carries those changes, so fieldChanged rules fire on
// every funnel move that changes them, with from / to, and not on moves that do not.

type Setup = Awaited<ReturnType<typeof setupAutomations>>;

/** A rule on `field` changes; returns the runs' (from, to) after draining. */
async function watch(t: Setup, field: string) {
  const rule = await t.crm.automations.define({ name: `watch ${field}`, trigger: { type: 'fieldChanged', entity: 'deal', field }, actions: [{ type: 'emit', name: 'changed' }] });
  return async () => {
    await t.crm.automations.drain();
    const runs = (await t.crm.automations.runs({ ruleId: rule.id })).items;
    const events = await t.crm.timeline({ type: 'deal', id: runs[0]?.subjectId ?? 'none' });
    // Oldest first (the log lists newest first).
    return [...runs].reverse().map((run) => {
      const event = events.items.find((e) => e.id === run.eventId)!;
      const change = (event.data as { changes: Record<string, { from: unknown; to: unknown }> }).changes[field.split('.')[0]!]!;
      return { status: run.status, event: event.type, from: change.from, to: change.to };
    });
  };
}

describe('fieldChanged on probability / weightedValue fires on funnel moves', () => {
  it('advance, move back, win, lose, reopen each fire with the stage probabilities as from → to', async () => {
    const t = await setupAutomations();
    const deal = await t.crm.deals.create({ title: 'd', pipelineId: t.pipeline.id, value: { amount: 1000, currency: 'EUR' } });
    const runs = await watch(t, 'probability');
    await t.crm.deals.advance(deal.id); // new (default 25) → proposal (40)
    await t.crm.deals.advance(deal.id); // → negotiation (70)
    await t.crm.deals.advance(deal.id, { toStage: 'proposal' }); // back → 40
    await t.crm.deals.win(deal.id); // → 100
    await t.crm.deals.reopen(deal.id, { toStage: 'negotiation' }); // → 70
    await t.crm.deals.lose(deal.id, { reason: 'price' }); // → 0
    const seen = await runs();
    expect(seen.map(({ event, from, to }) => [event, from, to])).toEqual([
      ['deal.stageChanged', 25, 40],
      ['deal.stageChanged', 40, 70],
      ['deal.stageChanged', 70, 40],
      ['deal.won', 40, 100],
      ['deal.reopened', 100, 70],
      ['deal.lost', 70, 0],
    ]);
    expect(seen.every((r) => r.status === 'done')).toBe(true);
  });

  it('"probability goes from below 50 to 50 or more": conditions on trigger.from / trigger.to, on advance only', async () => {
    const t = await setupAutomations();
    const rule = await t.crm.automations.define({
      name: 'Likely', trigger: { type: 'fieldChanged', entity: 'deal', field: 'probability' },
      conditions: [{ field: 'trigger.from', op: 'lt', value: 50 }, { field: 'trigger.to', op: 'gte', value: 50 }],
      actions: [{ type: 'addTag', tag: 'likely' }],
    });
    const deal = await t.crm.deals.create({ title: 'd', pipelineId: t.pipeline.id, value: { amount: 1000, currency: 'EUR' } });
    await t.crm.deals.advance(deal.id);
    await t.crm.automations.drain();
    expect((await t.crm.deals.get(deal.id)).tags).toEqual([]);
    await t.crm.deals.advance(deal.id);
    await t.crm.automations.drain();
    expect((await t.crm.deals.get(deal.id)).tags).toEqual(['likely']);
    expect((await t.crm.automations.runs({ ruleId: rule.id })).items.filter((r) => r.status === 'done')).toHaveLength(1);
  });

  it('a manual probability ends with the move (from the manual value); a postponement changes none and fires nothing', async () => {
    const t = await setupAutomations();
    const deal = await t.crm.deals.create({ title: 'd', pipelineId: t.pipeline.id, stageKey: 'proposal', probability: 55, value: { amount: 1000, currency: 'EUR' } });
    const runs = await watch(t, 'probability');
    const manual = await watch(t, 'probabilityManual');
    await t.crm.deals.postpone(deal.id, { until: '2026-02-01T09:00:00.000Z' });
    await t.crm.deals.advance(deal.id);
    expect((await runs()).map(({ event, from, to }) => [event, from, to])).toEqual([['deal.stageChanged', 55, 70]]);
    expect((await manual()).map(({ from, to }) => [from, to])).toEqual([[true, false]]);
  });

  it('weightedValue.amount fires on a move, and on a stage removed with its deals (deal.stageReassigned)', async () => {
    const t = await setupAutomations();
    const deal = await t.crm.deals.create({ title: 'd', pipelineId: t.pipeline.id, stageKey: 'proposal', value: { amount: 1000, currency: 'EUR' } });
    const rule = await t.crm.automations.define({ name: 'w', trigger: { type: 'fieldChanged', entity: 'deal', field: 'weightedValue.amount', to: 700 }, actions: [{ type: 'addTag', tag: 'seven' }] });
    await t.crm.pipelines.removeStage(t.pipeline.id, 'proposal', { moveDealsTo: 'negotiation' });
    await t.crm.automations.drain();
    const [run] = (await t.crm.automations.runs({ ruleId: rule.id })).items;
    expect(run).toMatchObject({ status: 'done' });
    const event = (await t.crm.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.id === run!.eventId)!;
    expect(event).toMatchObject({ type: 'deal.stageReassigned', data: { changes: { weightedValue: { from: { amount: 400 }, to: { amount: 700 } } } } });
    expect((await t.crm.deals.get(deal.id))).toMatchObject({ stageKey: 'negotiation', weightedValue: { amount: 700 }, tags: ['seven'] });
  });

  it('simulate agrees with the run on a move event', async () => {
    const t = await setupAutomations();
    const rule = await t.crm.automations.define({ name: 'p', trigger: { type: 'fieldChanged', entity: 'deal', field: 'probability', to: 70 }, actions: [{ type: 'addTag', tag: 'x' }] });
    const deal = await t.crm.deals.create({ title: 'd', pipelineId: t.pipeline.id, stageKey: 'proposal' });
    await t.crm.deals.advance(deal.id);
    const moved = (await t.crm.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.type === 'deal.stageChanged')!;
    expect(await t.crm.automations.simulate(rule.id, moved)).toMatchObject({ matched: true });
  });
});
