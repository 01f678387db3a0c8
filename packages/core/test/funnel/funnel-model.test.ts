import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError, weightedAmount, type Crm, type Deal, type Pipeline } from '@crmkit/core';
import { createTestCrm, type TestCrm } from '@crmkit/core/testing';

/** What the model knows: how many deals exist and how the pipeline is configured. */
interface Model {
  deals: number;
  strict: boolean;
  extraStages: number;
}

interface Real extends TestCrm {
  pipelineId: string;
  dealIds: string[];
}

const DAY = 86_400_000;

/** Runs an operation; a CrmError rejection must leave storage exactly as it was. Any other error fails. */
async function attempt(real: Real, fn: () => Promise<unknown>): Promise<boolean> {
  const before = real.storage.snapshot();
  try {
    await fn();
    return true;
  } catch (error) {
    if (!isCrmError(error)) throw error;
    expect(real.storage.snapshot()).toEqual(before);
    return false;
  }
}

const pick = (real: Real, index: number) => real.dealIds[index % real.dealIds.length]!;

async function checkInvariants(real: Real, model: Model): Promise<void> {
  // Funnel analytics over the whole history: counts add up, ratios stay within 0–1.
  const funnel = await real.crm.reports.funnel({ pipelineId: real.pipelineId, from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' });
  for (const s of funnel.stages) {
    expect(s.entered).toBe(s.advanced + s.lost + s.movedBack + s.otherExits + s.inStage);
    for (const r of [s.conversion, s.cumulativeWon]) if (r !== null) expect(r >= 0 && r <= 1).toBe(true);
    if (s.medianTimeMs !== null) expect(s.medianTimeMs).toBeGreaterThanOrEqual(0);
  }
  const pipeline: Pipeline = await real.crm.pipelines.get(real.pipelineId);
  const { items: deals } = await real.crm.deals.list({ limit: 1000 });
  expect(deals.length).toBe(model.deals);
  for (const deal of deals) {
    // In exactly one existing stage of its pipeline.
    const stage = pipeline.stages.find((s) => s.key === deal.stageKey);
    expect(stage, `deal ${deal.id} in unknown stage ${deal.stageKey}`).toBeDefined();
    // Closed deals sit in a won or lost stage with closedAt; open ones in an open stage without it.
    if (deal.status === 'open') {
      expect(stage!.kind).toBe('open');
      expect(deal.closedAt).toBeUndefined();
    } else {
      expect(stage!.kind).toBe(deal.status);
      expect(deal.closedAt).toBeDefined();
    }
    expect(deal.probability).toBeGreaterThanOrEqual(0);
    expect(deal.probability).toBeLessThanOrEqual(100);
    expect(deal.weightedValue.amount).toBe(weightedAmount(deal.value.amount, deal.probability));
    if (deal.status === 'won') expect(deal.probability).toBe(100);
    if (deal.status === 'lost') expect(deal.probability).toBe(0);
    // Stage visits are contiguous and never overlap; the only open one is the current stage.
    const visits = await real.crm.deals.stageHistory(deal.id);
    expect(visits.length).toBeGreaterThan(0);
    visits.forEach((visit, i) => {
      const next = visits[i + 1];
      if (next) {
        expect(visit.exitedAt).toBe(next.enteredAt);
        expect(visit.toStageKey).toBe(next.stageKey);
        expect(visit.enteredAt <= visit.exitedAt!).toBe(true);
      } else {
        expect(visit.exitedAt).toBeUndefined();
        expect(visit.stageKey).toBe(deal.stageKey);
        expect(visit.enteredAt).toBe(deal.stageEnteredAt);
      }
    });
    // Strict mode: every open deal keeps an open task, and nextStepDueAt tracks the earliest.
    const open = (await real.crm.tasks.list({ where: { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: deal.id }, { op: 'eq', field: 'status', value: 'open' }] }, limit: 1000 })).items;
    if (model.strict && deal.status === 'open') expect(open.length, `strict deal ${deal.id} without a task`).toBeGreaterThan(0);
    const earliest = open.map((t) => t.dueAt).filter(Boolean).sort()[0];
    expect(deal.nextStepDueAt).toBe(earliest);
  }
}

type Cmd = fc.AsyncCommand<Model, Real>;

const cmd = (name: string, run: (model: Model, real: Real) => Promise<void>, check: (m: Readonly<Model>) => boolean = (m) => m.deals > 0): Cmd => ({
  check,
  run: async (model, real) => {
    await run(model, real);
    await checkInvariants(real, model);
  },
  toString: () => name,
});

const nextStep = (real: Real) => ({ subject: 'Next step', type: 'call', dueAt: new Date(real.clock.now() + 2 * DAY).toISOString() });

const commands = [
  fc.boolean().map((withStep) =>
    cmd(`create(${withStep})`, async (model, real) => {
      let deal: Deal | undefined;
      const ok = await attempt(real, async () => {
        deal = await real.crm.deals.create({ title: `D${model.deals}`, value: { amount: 12_345, currency: 'EUR' }, ...(withStep ? { nextStep: nextStep(real) } : {}) });
      });
      const first = (await real.crm.pipelines.get(real.pipelineId)).stages.find((s) => s.kind === 'open')!;
      if (!withStep && model.strict && first.taskTemplates.length === 0) expect(ok).toBe(false);
      if (withStep || !model.strict) expect(ok).toBe(true);
      if (ok) {
        real.dealIds.push(deal!.id);
        model.deals++;
      }
    }, () => true),
  ),
  fc.tuple(fc.nat(), fc.option(fc.constantFrom('s1', 's2', 's3', 'x1', 'won'), { nil: undefined }), fc.boolean()).map(([i, toStage, withStep]) =>
    cmd(`advance(${i}, ${toStage}, ${withStep})`, async (_m, real) => {
      const before = await real.crm.deals.get(pick(real, i));
      const ok = await attempt(real, () => real.crm.deals.advance(before.id, { ...(toStage ? { toStage } : {}), ...(withStep ? { nextStep: nextStep(real) } : {}) }));
      if (ok) {
        const after = await real.crm.deals.get(before.id);
        expect(after.stageKey).not.toBe(before.stageKey);
        expect(after.status).toBe('open');
        expect(after.probabilityManual).toBe(false);
      }
      if (toStage === 'won' || before.status !== 'open') expect(ok).toBe(false);
    }),
  ),
  fc.tuple(fc.nat(), fc.integer({ min: -1, max: 5 })).map(([i, days]) =>
    cmd(`postpone(${i}, ${days}d)`, async (_m, real) => {
      const before = await real.crm.deals.get(pick(real, i));
      const ok = await attempt(real, () => real.crm.deals.postpone(before.id, { until: new Date(real.clock.now() + days * DAY + 3_600_000).toISOString(), reason: 'busy' }));
      if (ok) expect((await real.crm.deals.get(before.id)).postponeCount).toBe(before.postponeCount + 1);
      if (days < 0) expect(ok).toBe(false);
    }),
  ),
  fc.tuple(fc.nat(), fc.constantFrom('price', 'other', 'bogus'), fc.boolean()).map(([i, reason, comment]) =>
    cmd(`lose(${i}, ${reason}, ${comment})`, async (_m, real) => {
      const before = await real.crm.deals.get(pick(real, i));
      const ok = await attempt(real, () => real.crm.deals.lose(before.id, { reason, ...(comment ? { comment: 'gone' } : {}) }));
      const expected = before.status === 'open' && reason !== 'bogus' && (reason !== 'other' || comment);
      expect(ok).toBe(Boolean(expected));
      if (ok) expect(await real.crm.deals.get(before.id)).toMatchObject({ status: 'lost', lostReason: reason });
    }),
  ),
  fc.nat().map((i) =>
    cmd(`win(${i})`, async (_m, real) => {
      const before = await real.crm.deals.get(pick(real, i));
      const ok = await attempt(real, () => real.crm.deals.win(before.id));
      if (before.status !== 'open') expect(ok).toBe(false);
      if (ok) expect(await real.crm.deals.get(before.id)).toMatchObject({ status: 'won', probability: 100 });
    }),
  ),
  fc.tuple(fc.nat(), fc.constantFrom('s1', 's2', 'won'), fc.boolean()).map(([i, toStage, withStep]) =>
    cmd(`reopen(${i}, ${toStage})`, async (_m, real) => {
      const before = await real.crm.deals.get(pick(real, i));
      const ok = await attempt(real, () => real.crm.deals.reopen(before.id, { toStage, ...(withStep ? { nextStep: nextStep(real) } : {}) }));
      if (before.status === 'open' || toStage === 'won') expect(ok).toBe(false);
      if (ok) expect(await real.crm.deals.get(before.id)).toMatchObject({ status: 'open', stageKey: toStage });
    }),
  ),
  fc.tuple(fc.nat(), fc.boolean()).map(([i, withNext]) =>
    cmd(`completeTask(${i}, ${withNext})`, async (_m, real) => {
      const open = (await real.crm.tasks.list({ where: { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: pick(real, i) }, { op: 'eq', field: 'status', value: 'open' }] } })).items;
      if (!open.length) return;
      await attempt(real, () => real.crm.tasks.complete(open[0]!.id, withNext ? { next: nextStep(real) } : {}));
    }),
  ),
  fc.integer({ min: 1, max: 50 }).map((p) =>
    cmd(`stageProbability(s2, ${p})`, async (_m, real) => {
      await attempt(real, () => real.crm.pipelines.updateStage(real.pipelineId, 's2', { probability: p }));
    }, () => true),
  ),
  fc.constant(null).map(() =>
    cmd('addStage(x1)', async (model, real) => {
      if (await attempt(real, () => real.crm.pipelines.addStage(real.pipelineId, { stage: { key: 'x1', name: 'Extra' }, before: 's3' }))) model.extraStages++;
    }, (m) => m.extraStages === 0),
  ),
  fc.constantFrom('s1', 's3').map((target) =>
    cmd(`removeStage(x1 → ${target})`, async (model, real) => {
      if (await attempt(real, () => real.crm.pipelines.removeStage(real.pipelineId, 'x1', { moveDealsTo: target }))) model.extraStages--;
    }, (m) => m.extraStages === 1),
  ),
  fc.boolean().map((swap) =>
    cmd(`reorder(${swap})`, async (_m, real) => {
      const pipeline = await real.crm.pipelines.get(real.pipelineId);
      const keys = pipeline.stages.map((s) => s.key);
      const i = keys.indexOf('s1');
      const j = keys.indexOf('s2');
      if (swap) [keys[i], keys[j]] = [keys[j]!, keys[i]!];
      await attempt(real, () => real.crm.pipelines.reorderStages(real.pipelineId, { keys }));
    }, () => true),
  ),
  fc.integer({ min: 1, max: 72 }).map((hours) =>
    cmd(`clock +${hours}h`, async (_m, real) => {
      real.clock.advance(hours * 3_600_000);
    }, () => true),
  ),
];

describe('funnel model: invariants hold after every command', () => {
  it('random create / advance / postpone / lose / win / reopen / task / stage-edit sequences', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ strict: fc.boolean(), allowSkip: fc.boolean(), allowBackward: fc.boolean(), rules: fc.boolean() }),
        fc.commands(commands, { maxCommands: 40, size: '+1' }),
        async (settings, cmds) => {
          const t = await createTestCrm();
          const pipeline = await t.crm.pipelines.create({
            name: 'Model',
            settings: { strictNextStep: settings.strict, allowSkip: settings.allowSkip, allowBackward: settings.allowBackward },
            stages: [
              { key: 's1', name: 'One', probability: 10 },
              { key: 's2', name: 'Two', probability: 40, ...(settings.rules ? { exitRules: [{ type: 'requiredTasksDone' as const }] } : {}), taskTemplates: [{ subject: 'Qualify', type: 'call', due: { amount: 1, unit: 'businessDays' as const }, required: true }] },
              { key: 's3', name: 'Three', probability: 70, ...(settings.rules ? { entryRules: [{ type: 'field' as const, field: 'value.amount', op: 'gt' as const, value: 100 }] } : {}) },
            ],
          });
          const real: Real = { ...t, pipelineId: pipeline.id, dealIds: [] };
          for (const title of ['Seed A', 'Seed B']) {
            real.dealIds.push((await t.crm.deals.create({ title, value: { amount: 500, currency: 'EUR' }, nextStep: nextStep(real) })).id);
          }
          const model: Model = { deals: 2, strict: settings.strict, extraStages: 0 };
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        },
      ),
      { numRuns: 100 },
    );
  }, 240_000);
});

export type { Crm };
