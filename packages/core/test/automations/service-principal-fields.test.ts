import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { setupAutomations } from './automation-setup.js';

// Review 18d #6: a condition on a field the service principal cannot read never held, silently.
const policy = { roles: { bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' }, task: { '*': 'all' } }, fields: { deal: { read: { deny: ['value'] } } } } } };
const rule = { name: 'Big deal', trigger: { type: 'event' as const, event: 'deal.created' }, conditions: [{ field: 'value.amount', op: 'gt' as const, value: 100 }], actions: [{ type: 'addTag' as const, tag: 'big' }] };

describe('conditions on fields the service principal cannot read', () => {
  it('define and update refuse them with VALIDATION naming the field and the principal', async () => {
    const { crm } = await setupAutomations({ servicePrincipal: { userId: 'bot', roles: ['bot'] } });
    await crm.access.setPolicy(policy as never);
    const error = await crm.automations.define(rule).then(() => undefined, (e: unknown) => e);
    expect(isCrmError(error, 'VALIDATION')).toBe(true);
    const issue = (error as { details: { issues: { path: unknown[]; message: string }[] } }).details.issues[0]!;
    expect(issue.path).toEqual(['conditions', 0, 'field']);
    expect(issue.message).toContain('"bot"');
    expect(issue.message).toContain('value.amount');
    expect(await crm.automations.list()).toEqual([]);
    const ok = await crm.automations.define({ ...rule, conditions: [{ field: 'title', op: 'eq', value: 'x' }] });
    const refused = await crm.automations.update(ok.id, { conditions: rule.conditions }).then(() => undefined, (e: unknown) => e);
    expect(isCrmError(refused, 'VALIDATION')).toBe(true);
    expect((await crm.automations.get(ok.id)).conditions).toEqual([{ field: 'title', op: 'eq', value: 'x' }]);
  });

  it('a policy changed after define makes the run fail FORBIDDEN, recorded', async () => {
    const { crm, pipeline } = await setupAutomations({ servicePrincipal: { userId: 'bot', roles: ['bot'] } });
    const defined = await crm.automations.define(rule);
    await crm.access.setPolicy(policy as never);
    const deal = await crm.deals.create({ title: 'big', pipelineId: pipeline.id, value: { amount: 50_000, currency: 'EUR' } });
    await crm.automations.drain();
    const [run] = (await crm.automations.runs({ ruleId: defined.id })).items;
    expect(run?.status).toBe('failed');
    expect(run?.error?.code).toBe('FORBIDDEN');
    expect(run?.error?.message).toContain('value');
    expect((await crm.deals.get(deal.id)).tags ?? []).toEqual([]);
  });
});
