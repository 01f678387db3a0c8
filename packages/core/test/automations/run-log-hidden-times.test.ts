import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

const STAGES = [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];

it('time runs shown to a view keep no hidden due time or stage entry in their trigger key', async () => {
  const { crm, clock } = await createTestCrm();
  const p = await crm.pipelines.create({ name: 'S', stages: STAGES });
  await crm.access.setPolicy({
    roles: {
      support: { grants: { deal: { read: 'all' }, task: { read: 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['stageEnteredAt'] } }, task: { read: { deny: ['dueAt', 'deadlineAt', 'nextNotifyAt', 'notifiedUntil'] } } } },
      bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' }, task: { '*': 'all' } } },
    },
    defaultRoles: ['bot'],
  });
  await crm.automations.define({ name: 'Soon', trigger: { type: 'taskDue', before: { amount: 1, unit: 'days' } }, actions: [{ type: 'emit', name: 'soon' }] });
  await crm.automations.define({ name: 'Old', trigger: { type: 'timeInStage', stage: 'new', for: { amount: 1, unit: 'hours' } }, actions: [{ type: 'emit', name: 'old' }] });
  const deal = await crm.deals.create({ title: 'D', pipelineId: p.id });
  const task = await crm.tasks.create({ subject: 'T', type: 'call', dueAt: '2026-01-05T20:17:00.000Z', dealId: deal.id });
  clock.advance(2 * 3600_000);
  await crm.scheduler.tick();
  const hidden = [task.dueAt!, deal.stageEnteredAt!];
  expect(JSON.stringify((await crm.automations.runs()).items)).toContain(task.dueAt!);
  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  const seen = [
    ...(await sue.automations.runs({ record: { type: 'task', id: task.id } })).items,
    ...(await sue.automations.runs({ record: { type: 'deal', id: deal.id } })).items,
    ...(await sue.timeline({ type: 'deal', id: deal.id })).items,
  ];
  // The deal entered its stage when it was created (a time the view reads): only the run log's keys are tested.
  const keys = seen.map((r) => ('triggerKey' in r ? r.triggerKey : (r.data as { triggerKey?: string }).triggerKey)).filter((k) => k !== undefined);
  expect(keys.length).toBeGreaterThanOrEqual(4);
  for (const value of hidden) expect(keys.join(' ')).not.toContain(value);
  expect((await sue.automations.runs({ record: { type: 'task', id: task.id } })).items.map((r) => r.triggerKey)).toEqual([`time:${task.id}`]);
});

it('a failed run’s error is cut to its code for a view that does not read every record (no field rules)', async () => {
  const { crm } = await createTestCrm();
  const p = await crm.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New', exitRules: [{ type: 'requiredTasksDone' }], taskTemplates: [{ subject: 'SECRET: board approval', type: 'todo', due: { amount: 1, unit: 'days' }, required: true, assignee: { kind: 'user', userId: 'ceo' } }] }, { key: 'offer', name: 'Offer' }, ...STAGES.slice(1)] });
  await crm.access.setPolicy({
    roles: { rep: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' } } }, bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' }, task: { '*': 'all' } } } },
    defaultRoles: ['bot'],
  });
  const rule = await crm.automations.define({ name: 'Push', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'advance' }] });
  const deal = await crm.deals.create({ title: 'D', pipelineId: p.id, ownerId: 'carl' });
  const rita = crm.as({ userId: 'rita', roles: ['rep'] });
  const run = await rita.automations.trigger(rule.id, { type: 'deal', id: deal.id });
  expect(run?.status).toBe('failed');
  expect(run?.error?.code).toBe('RULE_VIOLATION');
  expect(JSON.stringify((await crm.automations.runs()).items)).toContain('SECRET');
  const seen = [run, ...(await rita.automations.runs({ record: { type: 'deal', id: deal.id } })).items, ...(await rita.timeline({ type: 'deal', id: deal.id })).items];
  expect(JSON.stringify(seen)).not.toContain('SECRET');
});
