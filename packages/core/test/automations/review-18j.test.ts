import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

type Issue = { path: (string | number)[]; code: string; message: string };
async function issuesOf(promise: Promise<unknown>): Promise<Issue[]> {
  const error = await promise.then(() => undefined, (e: unknown) => e as { code: string; details?: { issues?: Issue[] } });
  if (!error) return [];
  expect(error.code).toBe('VALIDATION');
  return error.details?.issues ?? [];
}

async function setup() {
  const test = await createTestCrm();
  await test.crm.pipelines.create({
    name: 'Sales',
    stages: [
      { key: 'new', name: 'New' },
      { key: 'qual', name: 'Qualified', entryRules: [{ type: 'field', field: 'expectedCloseDate', op: 'present' }] },
      { key: 'offer', name: 'Offer' },
      { key: 'won', name: 'Won', kind: 'won' },
      { key: 'lost', name: 'Lost', kind: 'lost', entryRules: [{ type: 'field', field: 'title', op: 'ne', value: 'keep' }] },
    ],
  });
  return test;
}

describe('review 18j', () => {
  it('#2: a rule whose trigger fixes no stage is still checked against the entry rules of the stage it moves into', async () => {
    const { crm } = await setup();
    for (const trigger of [{ type: 'event', event: 'deal.created' }, { type: 'manual', entity: 'deal' }, { type: 'fieldChanged', entity: 'deal', field: 'title' }, { type: 'stageLeft', stage: 'offer' }] as const) {
      expect(await issuesOf(crm.automations.define({ name: 'x', trigger, actions: [{ type: 'updateFields', set: { expectedCloseDate: null } }, { type: 'advance', toStage: 'qual' }] })), trigger.type).toEqual([
        expect.objectContaining({ path: ['actions', 1], code: 'stage_rule', message: expect.stringContaining('entering "qual" needs stage.entry.field (expectedCloseDate present)') }),
      ]);
      expect(await issuesOf(crm.automations.define({ name: 'x', trigger, actions: [{ type: 'updateFields', set: { title: 'keep' } }, { type: 'lose', reason: 'price' }] })), trigger.type).toEqual([expect.objectContaining({ path: ['actions', 1], code: 'stage_rule' })]);
    }
    // Where the start is unknown, what needs it is left to the run: a plain advance, a move back, the same stage.
    await crm.automations.define({ name: 'ok', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'updateFields', set: { expectedCloseDate: null } }, { type: 'advance' }, { type: 'advance', toStage: 'new' }] });
    // After a move by name the stage is known: a later plain advance out of the last open stage is refused.
    expect(await issuesOf(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'advance', toStage: 'offer' }, { type: 'advance' }] }))).toEqual([expect.objectContaining({ path: ['actions', 1], message: expect.stringContaining('"offer" is its last open stage') })]);
    await crm.close();
  });

  it('#4: ne a stage or lost reason that cannot be would always hold; trigger.to / trigger.from never name the stage moved out of / into', async () => {
    const { crm } = await setup();
    const cases = [
      [{ type: 'event', event: 'deal.updated' }, { field: 'stageKey', op: 'ne', value: 'nosuch' }, /"nosuch" is not a stage of pipeline "Sales": the condition would always hold/],
      [{ type: 'event', event: 'deal.lost' }, { field: 'trigger.data.reason', op: 'ne', value: 'nosuch' }, /"nosuch" is not a lost reason .*would always hold/],
      [{ type: 'stageLeft', stage: 'offer' }, { field: 'trigger.to', op: 'eq', value: 'offer' }, /the deal moves out of "offer": the condition would never hold/],
      [{ type: 'stageLeft', stage: 'offer' }, { field: 'trigger.to', op: 'ne', value: 'offer' }, /would always hold/],
      [{ type: 'stageEntered', stage: 'offer' }, { field: 'trigger.from', op: 'in', value: ['offer'] }, /the deal moves into "offer": the condition would never hold/],
    ] as const;
    for (const [trigger, condition, message] of cases) {
      expect(await issuesOf(crm.automations.define({ name: 'x', trigger, conditions: [condition as never], actions: [{ type: 'emit', name: 'x' }] })), JSON.stringify(condition)).toEqual([expect.objectContaining({ path: ['conditions', 0, 'value'], message: expect.stringMatching(message) })]);
    }
    // Other stages still may hold or not.
    await crm.automations.define({ name: 'ok', trigger: { type: 'stageLeft', stage: 'offer' }, conditions: [{ field: 'trigger.to', op: 'ne', value: 'qual' }, { field: 'trigger.to', op: 'in', value: ['qual', 'won'] }], actions: [{ type: 'emit', name: 'x' }] });
    await crm.close();
  });

  it('#5: a non-finite condition value or wait amount is "must be a finite number"', async () => {
    const { crm } = await setup();
    const finite = 'must be a finite number (JSON has no NaN or Infinity)';
    for (const value of [Infinity, NaN, -Infinity, JSON.parse('1e309') as number]) {
      expect(await issuesOf(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'value.amount', op: 'gt', value }], actions: [{ type: 'emit', name: 'x' }] }))).toEqual([expect.objectContaining({ path: ['conditions', 0, 'value'], message: finite })]);
      expect(await issuesOf(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'wait', for: { amount: value, unit: 'days' } }, { type: 'emit', name: 'x' }] }))).toEqual([expect.objectContaining({ path: ['actions', 0, 'for', 'amount'], message: finite })]);
    }
    // Where no number goes, the schema's word stays.
    expect(await issuesOf(crm.automations.define({ name: NaN as never, trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'emit', name: 'x' }] }))).toEqual([expect.objectContaining({ path: ['name'], message: 'required string' })]);
    await crm.close();
  });
});

describe('review 18j #3', () => {
  it('a start with another partition count names the stored count, not a removal crmkit refuses', async () => {
    const { createCrm, createMemoryStorage } = await import('@crmkit/core');
    const { automations } = await import('@crmkit/core/automations');
    const { events } = await import('@crmkit/core/feed');
    const features = (partitions: number) => [events(), automations({ partitions })] as const;
    const storage = createMemoryStorage();
    const a = await createCrm({ storage, tenantId: 't', features: features(1) });
    await a.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
    await a.automations.define({ name: 'Tag', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'a' }] });
    // A second process on the same storage (closing the first would close the memory storage).
    const error = await createCrm({ storage, tenantId: 't', features: features(4) }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['partitions'] }] } });
    expect((error as Error).message).toContain("crmkit's own consumers keep the count they were first created with: set the feature's partitions option to 1");
    expect((error as Error).message).not.toContain('crm.events.remove');
    await a.close().catch(() => undefined);
  });
});
