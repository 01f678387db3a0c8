import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

// A reference to a strategy that does not exist is refused when it is written, not when a deal or
// lead later reaches it (which made every deal entering the stage fail with an unrelated error).
describe('references to assignment strategies are checked when written', () => {
  const call = { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' as const } };
  const ghost = { kind: 'strategy' as const, strategyId: 'ghost_9' };
  const closed = [{ key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];

  it('pipelines.create, addStage and updateStage refuse a template assignee strategy that does not exist', async () => {
    const { crm } = await createTestCrm();
    const created = await expectCrmError(crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A', taskTemplates: [call, { ...call, assignee: ghost }] }, ...closed] }), 'VALIDATION');
    expect(issuePaths(created)).toEqual(['stages.0.taskTemplates.1.assignee.strategyId']);
    expect((await crm.pipelines.list()).items).toHaveLength(0);

    const pipeline = await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }, ...closed] });
    const added = await expectCrmError(crm.pipelines.addStage(pipeline.id, { stage: { key: 'b', name: 'B', taskTemplates: [{ ...call, assignee: ghost }] } }), 'VALIDATION');
    expect(issuePaths(added)).toEqual(['stage.taskTemplates.0.assignee.strategyId']);
    const updated = await expectCrmError(crm.pipelines.updateStage(pipeline.id, 'a', { taskTemplates: [{ ...call, assignee: ghost }] }), 'VALIDATION');
    expect(issuePaths(updated)).toEqual(['taskTemplates.0.assignee.strategyId']);
    expect((await crm.pipelines.get(pipeline.id)).version).toBe(pipeline.version);

    const strategy = await crm.assignment.createStrategy({ name: 'rr', entity: 'deal', kind: 'roundRobin', owners: [{ userId: 'anna' }] });
    const ok = await crm.pipelines.updateStage(pipeline.id, 'a', { taskTemplates: [{ ...call, assignee: { kind: 'strategy', strategyId: strategy.id } }] });
    expect(ok.stages[0]!.taskTemplates?.[0]?.assignee).toEqual({ kind: 'strategy', strategyId: strategy.id });
  });

  it('assignment.createStrategy and updateStrategy refuse rules or a fallback delegating to a strategy that does not exist', async () => {
    const { crm } = await createTestCrm();
    const error = await expectCrmError(
      crm.assignment.createStrategy({ name: 'r', entity: 'lead', kind: 'rules', rules: [{ when: [{ field: 'source', op: 'eq', value: 'web' }], assignTo: { strategyId: 'ghost_1' } }], fallback: { strategyId: 'ghost_2' } }),
      'VALIDATION',
    );
    expect(issuePaths(error).sort()).toEqual(['fallback.strategyId', 'rules.0.assignTo.strategyId']);
    expect(await crm.assignment.listStrategies()).toHaveLength(0);

    const rr = await crm.assignment.createStrategy({ name: 'rr', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'anna' }] });
    const rules = await crm.assignment.createStrategy({ name: 'r', entity: 'lead', kind: 'rules', rules: [{ when: [{ field: 'source', op: 'eq', value: 'web' }], assignTo: { strategyId: rr.id } }], fallback: { userId: 'ben' } });
    const update = await expectCrmError(crm.assignment.updateStrategy(rules.id, { fallback: { strategyId: 'ghost_3' } }), 'VALIDATION');
    expect(issuePaths(update)).toEqual(['fallback.strategyId']);
    expect((await crm.assignment.getStrategy(rules.id)).fallback).toEqual({ userId: 'ben' });
  });
});
