import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

// Review 18 #8: rules accepted at define time that could only fail (or loop) when they run.
async function setup() {
  const t = await createTestCrm();
  const sales = await t.crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await t.crm.customFields.define({ entity: 'deal', key: 'segment', label: 'Segment', type: 'text' });
  return { ...t, sales };
}

/** The VALIDATION issues of a refused define (fails the test when it was accepted). */
async function refused(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isCrmError(error, 'VALIDATION')) throw new Error(`expected VALIDATION, got ${String(error)}`);
  return (error.details as { issues: { path: (string | number)[]; code: string; message: string }[] }).issues;
}

const base = { name: 'r', trigger: { type: 'event' as const, event: 'deal.created' } };

describe('define refuses what can never work', () => {
  it('unknown custom fields in conditions, field triggers and updateFields (known ones pass)', async () => {
    const { crm } = await setup();
    expect((await refused(crm.automations.define({ ...base, conditions: [{ field: 'custom.nope', op: 'eq', value: 1 }], actions: [{ type: 'addTag', tag: 'x' }] })))[0]).toMatchObject({ path: ['conditions', 0, 'field'] });
    expect((await refused(crm.automations.define({ name: 'f', trigger: { type: 'fieldChanged', entity: 'deal', field: 'custom.nope' }, actions: [{ type: 'addTag', tag: 'x' }] })))[0]).toMatchObject({ path: ['trigger', 'field'] });
    expect((await refused(crm.automations.define({ ...base, actions: [{ type: 'updateFields', set: { custom: { nope: 1 } } }] })))[0]).toMatchObject({ path: ['actions', 0, 'set', 'custom', 'nope'] });
    await crm.automations.define({ ...base, conditions: [{ field: 'custom.segment', op: 'eq', value: 'smb' }], actions: [{ type: 'updateFields', set: { custom: { segment: 'smb' } } }] });
    expect(await crm.automations.list()).toHaveLength(1);
  });

  it('condition paths into fields that have no parts (title.length, ownerId.whatever)', async () => {
    const { crm } = await setup();
    for (const field of ['title.length', 'ownerId.whatever', 'value.nope']) {
      const issues = await refused(crm.automations.define({ ...base, conditions: [{ field, op: 'present' }], actions: [{ type: 'addTag', tag: 'x' }] }));
      expect(issues[0]).toMatchObject({ path: ['conditions', 0, 'field'] });
    }
    await crm.automations.define({ ...base, conditions: [{ field: 'value.amount', op: 'gt', value: 100 }, { field: 'value', op: 'present' }], actions: [{ type: 'addTag', tag: 'x' }] });
    expect(await crm.automations.list()).toHaveLength(1);
  });

  it('a rule that changes a computed field it watches (weightedValue ← probability / value, expectedCloseMonth ← expectedCloseDate) is a cycle', async () => {
    const { crm } = await setup();
    const cases = [
      { field: 'weightedValue', set: { probability: 50 } },
      { field: 'weightedValue.amount', set: { value: { amount: 100, currency: 'EUR' } } },
      { field: 'expectedCloseMonth', set: { expectedCloseDate: '2027-01-15' } },
    ];
    for (const { field, set } of cases) {
      const issues = await refused(crm.automations.define({ name: 'self', trigger: { type: 'fieldChanged', entity: 'deal', field }, actions: [{ type: 'updateFields', set }] }));
      expect(issues[0]).toMatchObject({ code: 'cycle' });
    }
    expect(await crm.automations.list()).toEqual([]);
  });

  it('moves that always fail: advance from the last open stage, advance or lose after lose', async () => {
    const { crm } = await setup();
    const last = await refused(crm.automations.define({ name: 'm', trigger: { type: 'stageEntered', stage: 'offer' }, actions: [{ type: 'advance' }] }));
    expect(last[0]).toMatchObject({ path: ['actions', 0] });
    expect(last[0]!.message).toContain('last open stage');
    const lostThenAdvance = await refused(crm.automations.define({ ...base, actions: [{ type: 'lose', reason: 'price' }, { type: 'advance' }] }));
    expect(lostThenAdvance[0]).toMatchObject({ path: ['actions', 1, 'type'] });
    const lostTwice = await refused(crm.automations.define({ ...base, actions: [{ type: 'lose', reason: 'price' }, { type: 'lose', reason: 'price' }] }));
    expect(lostTwice[0]).toMatchObject({ path: ['actions', 1, 'type'] });
    // After a wait others may reopen the deal: that is left to the run.
    await crm.automations.define({ ...base, actions: [{ type: 'lose', reason: 'price' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'advance' }] });
    expect(await crm.automations.list()).toHaveLength(1);
  });
});
