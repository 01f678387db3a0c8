import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13c C2: the device's rules stop judging for every user with any field rule. A rep whose policy hides
 * one *deal* field (`value`) completes a task that is already done: the task has no field rules and nothing
 * of the command reads a hidden field, yet `leftToServer` defers every `RULE_VIOLATION` as soon as the pull's
 * `projected` lists any entity. The call resolves (the UI shows success), the server rejects it later.
 * docs/sync.md: "its rules judge them: a refusal throws and records nothing"; deferral is for commands that
 * depend on a hidden field.
 */
describe('review13c: device rules for a user with a hidden deal field', () => {
  it('still refuse, at once, a task command that reads no hidden field', async () => {
    const o = await office({ denyDeal: ['value'] });
    const task = await o.crm.tasks.create({ subject: 'Call Acme', ownerId: 'anna' } as never);
    await o.crm.tasks.complete(task.id);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    await expect(anna.client.crm.tasks.complete(task.id)).rejects.toMatchObject({ code: 'RULE_VIOLATION' });
    expect(anna.client.status().pending).toBe(0);
  });

  it('still refuse advancing a won deal (its status and stage are not hidden)', async () => {
    const o = await office({ denyDeal: ['value'] });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    await o.crm.deals.win(deal.id);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    await expect(anna.client.crm.deals.advance(deal.id)).rejects.toMatchObject({ code: 'RULE_VIOLATION' });
  });

  it('still refuse, at once, a create that misses a required field the user can read', async () => {
    // `margin` is required and readable; only `value` is hidden. The create resolves `undefined` (typed Deal) today.
    const o = await office({ denyDeal: ['value'], requiredMargin: true });
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    await expect(anna.client.crm.deals.create({ title: 'Bolt', pipelineId: o.sales.id })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('are not left to the server for a user whose field rules hide nothing (`deny: []`)', async () => {
    const o = await office({ denyDeal: [] });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    await o.crm.deals.win(deal.id);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    await expect(anna.client.crm.deals.advance(deal.id)).rejects.toMatchObject({ code: 'RULE_VIOLATION' });
  });
});
