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
    ] as const;
    for (const [trigger, condition] of bad) {
      const error = await crm.automations.define({ name: 'r', trigger: trigger as never, conditions: [condition as never], actions: [{ type: 'emit', name: 'x' }] }).catch((e: unknown) => e);
      expect((error as { details: { issues: { path: unknown[] }[] } }).details.issues.map((i) => i.path.join('.'))).toEqual(['conditions.0.value']);
    }
    // Known stages, ne, and fields that are no stage pass.
    await crm.automations.define({ name: 'ok', trigger: { type: 'stageEntered', stage: 'proposal' }, conditions: [{ field: 'trigger.from', op: 'in', value: ['new'] }, { field: 'stageKey', op: 'ne', value: 'gone' }, { field: 'title', op: 'eq', value: 'gone' }], actions: [{ type: 'emit', name: 'x' }] });
    expect((await crm.automations.list()).map((r) => r.name)).toEqual(['ok']);
  });
});
