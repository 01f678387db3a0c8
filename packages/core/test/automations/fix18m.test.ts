import { describe, expect, it } from 'vitest';
import { mergesRecordUpdates, pipelineEditsCheckRules, runEventsFollowFieldRules } from './fix18m-scenarios.js';

// Review 18f #8, #9 and the copied-fields finding (fix18m #1-#3) on memory; the SQLite run is
// packages/storage-sqlite/test/automation-fix18m.test.ts.
describe('fix18m on memory', () => {
  it('pipeline edits that would break an enabled rule are refused, naming it; enable re-checks', () => pipelineEditsCheckRules(undefined));
  it("merges and their undo record the survivor's update: field triggers fire", () => mergesRecordUpdates(undefined));
  it("a real run's records and events reach a view by its field rules, refs and timelines included", () => runEventsFollowFieldRules(undefined));
});

describe('stages named in conditions', () => {
  it('a condition testing stageKey (or a stage trigger’s from / to) with a stage no pipeline has is refused at its value', async () => {
    const { setupAutomations } = await import('./automation-setup.js');
    const { crm, pipeline } = await setupAutomations();
    const bad = [
      [{ type: 'fieldChanged', entity: 'deal', field: 'title' }, { field: 'stageKey', op: 'eq', value: 'propsal' }],
      [{ type: 'fieldChanged', entity: 'deal', field: 'title' }, { field: 'stageKey', op: 'in', value: ['proposal', 'gone'] }],
      [{ type: 'stageEntered', stage: 'proposal' }, { field: 'trigger.from', op: 'eq', value: 'nope' }],
      [{ type: 'stageLeft', stage: 'proposal', pipelineId: pipeline.id }, { field: 'trigger.to', op: 'in', value: ['nope'] }],
      // ne a stage there is not would always hold (review 18j #4).
      [{ type: 'stageEntered', stage: 'proposal' }, { field: 'stageKey', op: 'ne', value: 'gone' }],
    ] as const;
    for (const [trigger, condition] of bad) {
      const error = await crm.automations.define({ name: 'r', trigger: trigger as never, conditions: [condition as never], actions: [{ type: 'emit', name: 'x' }] }).catch((e: unknown) => e);
      expect((error as { details: { issues: { path: unknown[] }[] } }).details.issues.map((i) => i.path.join('.'))).toEqual(['conditions.0.value']);
    }
    // Known stages, ne a known one, and fields that are no stage pass.
    await crm.automations.define({ name: 'ok', trigger: { type: 'stageEntered', stage: 'proposal' }, conditions: [{ field: 'trigger.from', op: 'in', value: ['new'] }, { field: 'stageKey', op: 'ne', value: 'negotiation' }, { field: 'title', op: 'eq', value: 'gone' }], actions: [{ type: 'emit', name: 'x' }] });
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['ok']);
  });
});

describe('pipeline edits and loops', () => {
  it('a reorder after which two enabled rules would trigger each other is refused, naming the loop', async () => {
    const { setupAutomations } = await import('./automation-setup.js');
    const { crm } = await setupAutomations();
    const p = await crm.pipelines.create({ name: 'Loop', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }, { key: 'x', name: 'X' }, { key: 'c', name: 'C' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    // b → (next: x); c → back to b. No loop while x follows b.
    await crm.automations.define({ name: 'Onward', trigger: { type: 'stageEntered', stage: 'b', pipelineId: p.id }, actions: [{ type: 'advance' }] });
    await crm.automations.define({ name: 'Back', trigger: { type: 'stageEntered', stage: 'c', pipelineId: p.id }, actions: [{ type: 'advance', toStage: 'b' }] });
    const error = await crm.pipelines.reorderStages(p.id, { keys: ['a', 'b', 'c', 'x', 'won', 'lost'] }).catch((e: unknown) => e);
    const messages = (error as { details: { issues: { code: string; message: string }[] } }).details.issues.map((i) => [i.code, i.message]);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every(([code, message]) => code === 'in_use' && message!.includes('would trigger each other in a loop'))).toBe(true);
    expect((await crm.pipelines.get(p.id)).stages.map((s) => s.key)).toEqual(['a', 'b', 'x', 'c', 'won', 'lost']);
  });
});
