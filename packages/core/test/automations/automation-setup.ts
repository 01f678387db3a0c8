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
