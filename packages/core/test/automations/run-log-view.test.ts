import { describe, expect, it } from 'vitest';
import type { CrmEvent } from '@crmkit/core';
import { bigDealsWithSupportRole, setupAutomations } from './automation-setup.js';

// Review 18e #1: a view sees runs, run results and `automation.ran` events projected with the field rules of records.
async function setup() {
  const test = await setupAutomations();
  const { crm } = test;
  const pipeline = await bigDealsWithSupportRole(crm);
  const rr = await crm.assignment.createStrategy({ name: 'RR', entity: 'deal', kind: 'roundRobin', owners: [{ userId: 'anna' }, { userId: 'ben' }] });
  await crm.automations.define({ name: 'Assign', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'assignOwner', strategyId: rr.id }, { type: 'addTag', tag: 'vip-secret' }] });
  await crm.automations.define({ name: 'Call', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 2, unit: 'days' } } }] });
  await crm.automations.define({ name: 'Push big', trigger: { type: 'event', event: 'deal.updated' }, actions: [{ type: 'advance', toStage: 'big' }] });
  const manual = await crm.automations.define({ name: 'Reassign', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'assignOwner', userId: 'zed' }] });
  const deal = await crm.deals.create({ title: 'Secret', pipelineId: pipeline.id, value: { amount: 777_000, currency: 'EUR' } });
  await crm.automations.drain();
  await crm.deals.update(deal.id, { title: 'Secret 2' });
  await crm.automations.drain();
  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  const task = (await crm.tasks.list()).items[0]!;
  const owner = (await crm.deals.get(deal.id)).ownerId!;
  return { crm, sue, deal, manual, task, owner, record: { type: 'deal' as const, id: deal.id } };
}

/** Whether a view's text shows any of the hidden values. */
function leaks(value: unknown, hidden: readonly string[]): string[] {
  const text = JSON.stringify(value);
  return hidden.filter((h) => text.includes(h));
}

describe('the run log and automation.ran events on a view', () => {
  it('the crm itself sees every detail (control)', async () => {
    const { crm, record, owner, task } = await setup();
    const runs = (await crm.automations.runs({ record })).items;
    expect(leaks(runs, [owner, 'vip-secret', task.id, task.dueAt!, '1000000'])).toHaveLength(5);
  });

  it('runs({ record }) hides owner, tags, hidden tasks and error details', async () => {
    const { sue, record, owner, task } = await setup();
    const runs = (await sue.automations.runs({ record })).items;
    expect(new Set(runs.map((r) => r.ruleName))).toEqual(new Set(['Assign', 'Call', 'Push big']));
    expect(leaks(runs, [owner, 'vip-secret', task.id, task.dueAt!, '1000000'])).toEqual([]);
    const failed = runs.find((r) => r.ruleName === 'Push big')!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: 'RULE_VIOLATION', message: expect.stringContaining('hidden') });
    // What was done is still listed (types), and readable details are kept.
    expect(runs.find((r) => r.ruleName === 'Assign')!.actions.map((a) => a.type)).toEqual(['assignOwner', 'addTag']);
  });

  it('the timeline, events.read, consume and on() show automation.ran projected', async () => {
    const { crm, sue, record, owner, task } = await setup();
    const hidden = [owner, 'vip-secret', task.id, task.dueAt!, '1000000'];
    const timeline = (await sue.timeline(record)).items.filter((e) => e.type === 'automation.ran');
    const count = (await crm.automations.runs({ record })).items.length;
    expect(timeline).toHaveLength(count);
    expect(leaks(timeline, hidden)).toEqual([]);
    const read = (await sue.events.read({ after: 0, types: ['automation.ran'] })).events;
    expect(read).toHaveLength(count);
    expect(leaks(read, hidden)).toEqual([]);
    const consumed: CrmEvent[] = [];
    const consumer = await sue.events.consume('sue-reader', async (event) => void consumed.push(event), { types: ['automation.ran'], from: 'beginning' });
    await consumer.drain();
    await consumer.stop();
    expect(consumed.length).toBe(count);
    expect(leaks(consumed, hidden)).toEqual([]);
    // Observers: a new run seen live.
    const seen: CrmEvent[] = [];
    sue.on('automation.ran', (event) => void seen.push(event));
    await crm.deals.update(record.id, { title: 'Secret 3' });
    await crm.automations.drain();
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.length).toBeGreaterThan(0);
    expect(leaks(seen, hidden)).toEqual([]);
  });

  it('trigger() on a view returns the run projected; causedBy keeps the view', async () => {
    const { crm, sue, record, manual } = await setup();
    const run = await sue.automations.trigger(manual.id, record);
    expect(run?.status).toBe('done');
    expect((await crm.deals.get(record.id)).ownerId).toBe('zed');
    expect(run!.actions).toEqual([{ type: 'assignOwner', ref: `deal:${record.id}` }]);
    const event = (await sue.timeline(record)).items.find((e) => e.type === 'automation.ran')!;
    const chained = sue.automations.causedBy<typeof sue>(event);
    expect(leaks((await chained.automations.runs({ record })).items, ['zed'])).toEqual([]);
    expect(leaks(await chained.timeline(record), ['zed'])).toEqual([]);
  });

  it('simulate on a view drops tags, hidden task refs and error details as runs() does', async () => {
    const { sue, record } = await setup();
    const event = (await sue.timeline(record)).items.find((e) => e.type === 'deal.created')!;
    const sim = await sue.automations.simulate({ name: 'S', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'hush' }, { type: 'createTask', task: { subject: 'x', type: 'call', due: { amount: 1, unit: 'days' } } }] }, event);
    expect(sim.actions).toEqual([{ type: 'addTag', ref: `deal:${record.id}` }, { type: 'createTask' }]);
  });
});
