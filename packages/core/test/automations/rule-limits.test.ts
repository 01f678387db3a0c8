import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

describe('rule limits', () => {
  // Review 18 #5: rules past the maximum were stored but ignored; define refuses them instead.
  it('define refuses the rule after the 1,000th (VALIDATION, nothing stored) and every stored rule runs', async () => {
    const { crm } = await createTestCrm();
    let last = await crm.automations.define({ name: 'r0', trigger: { type: 'event', event: 'lead.created' }, actions: [{ type: 'addTag', tag: 'r0' }] });
    for (let i = 1; i < 1000; i++) last = await crm.automations.define({ name: `r${i}`, trigger: { type: 'event', event: 'lead.created' }, enabled: i === 999, actions: [{ type: 'addTag', tag: `r${i}` }] });
    const error = await crm.automations.define({ name: 'r1000', trigger: { type: 'event', event: 'lead.created' }, actions: [{ type: 'addTag', tag: 'x' }] }).then(() => undefined, (e: unknown) => e);
    expect(isCrmError(error, 'VALIDATION')).toBe(true);
    expect((await crm.automations.list()).length).toBe(1000);
    // Editing a stored rule is still possible at the maximum.
    expect((await crm.automations.update(last.id, { name: 'renamed' })).name).toBe('renamed');
    const lead = await crm.leads.create({ name: 'A', email: 'a@x.io' });
    await crm.automations.drain();
    expect([...(await crm.leads.get(lead.id)).tags ?? []].sort()).toEqual(['r0', 'r999']);
  }, 300_000);

  // Review 18 #12 (part): a manual rule simulated with an event of another record type does not match.
  it('simulate of a manual rule runs only for records of its entity (others: VALIDATION)', async () => {
    const { crm } = await createTestCrm();
    const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const deal = await crm.deals.create({ title: 'D', pipelineId: sales.id });
    const rule = { name: 'm', trigger: { type: 'manual' as const, entity: 'lead' as const }, actions: [{ type: 'addTag' as const, tag: 'x' }] };
    const event = { id: 'e1', type: 'deal.created', subjectType: 'deal', subjectId: deal.id, at: new Date(0).toISOString(), data: {} } as never;
    const refused = await crm.automations.simulate(rule, event).then(() => undefined, (e: unknown) => e);
    expect((refused as { code?: string }).code).toBe('VALIDATION');
    const asDeal = await crm.automations.simulate({ ...rule, trigger: { type: 'manual', entity: 'deal' } }, event);
    expect(asDeal.matched).toBe(true);
  });
});
