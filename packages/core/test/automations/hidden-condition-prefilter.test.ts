import { describe, expect, it } from 'vitest';
import { setupAutomations } from './automation-setup.js';

// Review 18d #6 (rest): the pre-filters (the feed's, the time sweep's) judged a rule's conditions on the
// raw record, the run on the service principal's copy. After a policy change hides a condition's field
// from the service principal, a record failing the condition on the raw value was filtered out silently
// while one passing it recorded FORBIDDEN. Now both record FORBIDDEN; time rules record it once per key.

const grants = { deal: { '*': 'all' }, pipeline: { read: 'all' }, task: { '*': 'all' }, activity: { '*': 'all' } } as const;

async function setup() {
  const t = await setupAutomations({ servicePrincipal: { userId: 'bot', roles: ['bot'] } });
  await t.crm.access.setPolicy({ roles: { bot: { grants } } });
  return t;
}

/** The policy changed after define: the service principal may no longer read deal values. */
const hideValue = (t: Awaited<ReturnType<typeof setup>>) => t.crm.access.setPolicy({ roles: { bot: { grants, fields: { deal: { read: { deny: ['value'] } } } } } });

describe('conditions on a field the service principal can no longer read', () => {
  it('feed rules: a FORBIDDEN run whether the raw value passes the condition or not', async () => {
    const t = await setup();
    const rule = await t.crm.automations.define({ name: 'Big deal', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'value.amount', op: 'gt', value: 100 }], actions: [{ type: 'addTag', tag: 'big' }] });
    await hideValue(t);
    const small = await t.crm.deals.create({ title: 'small', pipelineId: t.pipeline.id, value: { amount: 50, currency: 'EUR' } });
    const big = await t.crm.deals.create({ title: 'big', pipelineId: t.pipeline.id, value: { amount: 50_000, currency: 'EUR' } });
    await t.crm.automations.drain();
    const runs = (await t.crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => [r.subjectId, r.status, r.error?.code]).sort()).toEqual([[big.id, 'failed', 'FORBIDDEN'], [small.id, 'failed', 'FORBIDDEN']].sort());
    expect((await t.crm.deals.get(small.id)).tags).toEqual([]);
    expect((await t.crm.deals.get(big.id)).tags).toEqual([]);
  });

  it('a readable condition still filters without a run (control)', async () => {
    const t = await setup();
    const rule = await t.crm.automations.define({ name: 'Titled', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'title', op: 'eq', value: 'x' }], actions: [{ type: 'addTag', tag: 'x' }] });
    await hideValue(t);
    await t.crm.deals.create({ title: 'y', pipelineId: t.pipeline.id, value: { amount: 50, currency: 'EUR' } });
    await t.crm.automations.drain();
    expect((await t.crm.automations.runs({ ruleId: rule.id })).items).toEqual([]);
  });

  it('time rules: one FORBIDDEN run per record and key, then no write transaction on later ticks', async () => {
    const t = await setup();
    const rule = await t.crm.automations.define({ name: 'Stuck big', trigger: { type: 'timeInStage', stage: 'proposal', for: { amount: 1, unit: 'days' } }, conditions: [{ field: 'value.amount', op: 'gt', value: 100 }], actions: [{ type: 'addTag', tag: 'stuck' }] });
    await hideValue(t);
    const deals = [];
    for (const amount of [50, 60, 70]) deals.push(await t.crm.deals.create({ title: `d${amount}`, pipelineId: t.pipeline.id, stageKey: 'proposal', value: { amount, currency: 'EUR' } }));
    await t.crm.automations.drain();
    t.clock.advance(2 * 86_400_000);
    await t.crm.automations.tick();
    const first = (await t.crm.automations.runs({ ruleId: rule.id })).items;
    expect(first.map((r) => [r.status, r.error?.code])).toEqual(deals.map(() => ['failed', 'FORBIDDEN']));
    // Later ticks before the retry time: the log holds the keys, nothing is written.
    const storage = t.storage as unknown as { transaction: (mode: 'r' | 'rw', fn: unknown) => Promise<unknown> };
    const original = storage.transaction.bind(storage);
    let writes = 0;
    storage.transaction = (mode, fn) => {
      if (mode === 'rw') writes++;
      return original(mode, fn);
    };
    try {
      for (let i = 0; i < 3; i++) expect((await t.crm.automations.tick()).runs).toBe(0);
    } finally {
      storage.transaction = original;
    }
    expect(writes).toBe(0);
    expect((await t.crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.attempts)).toEqual(first.map((r) => r.attempts));
  });
});
