import { expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

it('trigger() on a view refuses a rule whose conditions test a field the view cannot read (FORBIDDEN, nothing run)', async () => {
  const { crm } = await createTestCrm();
  const p = await crm.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.access.setPolicy({
    roles: {
      support: { grants: { deal: { read: 'all', update: 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['value', 'weightedValue'] } } } },
      bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' } } },
    },
    defaultRoles: ['bot'],
  });
  const big = await crm.automations.define({ name: 'Big', trigger: { type: 'manual', entity: 'deal' }, conditions: [{ field: 'value.amount', op: 'gt', value: 500000 }], actions: [{ type: 'addTag', tag: 'big' }] });
  const plain = await crm.automations.define({ name: 'Plain', trigger: { type: 'manual', entity: 'deal' }, conditions: [{ field: 'title', op: 'present' }], actions: [{ type: 'addTag', tag: 'seen' }] });
  const deal = await crm.deals.create({ title: 'D', pipelineId: p.id, value: { amount: 900000, currency: 'EUR' } });
  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  const error = await sue.automations.trigger(big.id, { type: 'deal', id: deal.id }).catch((e: unknown) => e);
  expect(isCrmError(error, 'FORBIDDEN')).toBe(true);
  expect((await crm.automations.runs({ ruleId: big.id })).items).toEqual([]);
  expect((await sue.automations.trigger(plain.id, { type: 'deal', id: deal.id }))?.status).toBe('done');
  expect((await crm.deals.get(deal.id)).tags).toEqual(['seen']);
  expect((await crm.automations.trigger(big.id, { type: 'deal', id: deal.id }))?.status).toBe('done');
});
