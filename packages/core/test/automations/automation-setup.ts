import type { StorageAdapter } from '@crmkit/core';
import { allFeatures, createTestCrm } from '@crmkit/core/testing';
import { automations, createTestMessenger, type AutomationOptions } from '@crmkit/core/automations';

/** The pipeline the automation tests run on. */
export const STAGES = [
  { key: 'new', name: 'New' },
  { key: 'proposal', name: 'Proposal', probability: 40 },
  { key: 'negotiation', name: 'Negotiation', probability: 70 },
  { key: 'won', name: 'Won', kind: 'won' as const },
  { key: 'lost', name: 'Lost', kind: 'lost' as const },
];

/** A test crm with every feature, automations tuned for tests (fast retries, 3 attempts), a test messenger and the pipeline; on memory unless `storage` makes another adapter. */
export async function setupAutomations(options: AutomationOptions = {}, storage?: () => StorageAdapter) {
  const messenger = createTestMessenger();
  const [tasksF, activitiesF, assignmentF, customFieldsF, duplicatesF, importsF, mergesF, reportsF, scoringF, schedulerF, observersF, eventsF, webhooksF, accessF, , timelineF] = allFeatures();
  const test = await createTestCrm({
    ...(storage ? { storage: storage() as never } : {}),
    features: [tasksF, activitiesF, assignmentF, customFieldsF, duplicatesF, importsF, mergesF, reportsF, scoringF, schedulerF, observersF, eventsF, webhooksF, accessF, automations({ messenger, backoff: { initialMs: 1000, multiplier: 1, maxMs: 1000 }, maxAttempts: 3, ...options }), timelineF] as const,
  });
  const pipeline = await test.crm.pipelines.create({ name: 'Sales', stages: STAGES });
  return { ...test, messenger, pipeline };
}

/**
 * A pipeline whose `big` stage needs an amount over 1,000,000, and a policy with a `support` role that reads
 * deals without their value, owner and tags, beside the default `bot` role (the view-leak tests' setup).
 */
export async function bigDealsWithSupportRole(crm: Awaited<ReturnType<typeof setupAutomations>>['crm']) {
  const pipeline = await crm.pipelines.create({
    name: 'Big deals',
    stages: [{ key: 'new', name: 'New' }, { key: 'big', name: 'Big', entryRules: [{ type: 'field', field: 'value.amount', op: 'gt', value: 1_000_000 }] }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }],
  } as never);
  await crm.access.setPolicy({
    roles: {
      support: { grants: { deal: { read: 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['value', 'weightedValue', 'ownerId', 'tags'] } } } },
      bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' }, task: { '*': 'all' }, setting: { '*': 'all' } } },
    },
    defaultRoles: ['bot'],
  } as never);
  return pipeline;
}
