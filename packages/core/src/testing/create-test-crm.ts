import { createCrm, type CreateCrmOptions } from '../crm/create-crm.js';
import type { CrmFeature, CrmWith } from '../crm/feature.js';
import { silentLogger } from '../crm/logger.js';
import { events, type EventsFeature } from '../feed/events-feature.js';
import { webhooks, type WebhooksFeature } from '../webhooks/webhooks-feature.js';
import { activities, type ActivitiesFeature } from '../activities/activities-feature.js';
import { assignment, type AssignmentFeature } from '../assignment/assignment-feature.js';
import { customFields, type CustomFieldsFeature } from '../custom-fields/custom-fields-feature.js';
import { duplicates, type DuplicatesFeature } from '../duplicates/duplicates-feature.js';
import { imports, type ImportsFeature } from '../imports/imports-feature.js';
import { merges, type MergesFeature } from '../merges/merges-feature.js';
import { observers, type ObserversFeature } from '../observe/observe-feature.js';
import { reports, type ReportsFeature } from '../reports/reports-feature.js';
import { scheduler, type SchedulerFeature } from '../scheduler/scheduler-feature.js';
import { scoring, type ScoringFeature } from '../scoring/scoring-feature.js';
import { tasks, type TasksFeature } from '../tasks/tasks-feature.js';
import { access, type AccessFeature } from '../access/access-feature.js';
import { automations, type AutomationsFeature } from '../automations/automations-feature.js';
import { timeline, type TimelineFeature } from '../timeline/timeline-feature.js';
import { createMemoryStorage, type MemoryStorage } from '../storage/memory-storage.js';
import type { StorageAdapter } from '../storage/storage-adapter.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';

/** The features a test crm has unless `features` says otherwise: all of them. */
export type AllFeatures = readonly [
  TasksFeature,
  ActivitiesFeature,
  AssignmentFeature,
  CustomFieldsFeature,
  DuplicatesFeature,
  ImportsFeature,
  MergesFeature,
  ReportsFeature,
  ScoringFeature,
  SchedulerFeature,
  ObserversFeature,
  EventsFeature,
  WebhooksFeature,
  AccessFeature,
  AutomationsFeature,
  TimelineFeature,
];

/** Every feature of `@crmkit/core`, in an order that satisfies their dependencies. */
export function allFeatures(): AllFeatures {
  return [tasks(), activities(), assignment(), customFields(), duplicates(), imports(), merges(), reports(), scoring(), scheduler(), observers(), events(), webhooks(), access(), automations(), timeline()];
}

export interface CreateTestCrmOptions<F extends readonly CrmFeature[] = AllFeatures> extends Partial<Omit<CreateCrmOptions<F>, 'clock'>> {
  /** Start time of the fake clock (default `2026-01-05T09:00:00.000Z`). */
  readonly now?: string | number;
  /** Seed of ids (default 1): the same test makes the same ids. */
  readonly seed?: number | string;
}

/** A CRM on memory storage with a fake clock and seeded ids, plus handles to both. */
export interface TestCrm<S extends StorageAdapter = MemoryStorage, F extends readonly CrmFeature[] = AllFeatures> {
  readonly crm: CrmWith<F>;
  readonly clock: FakeClock;
  readonly storage: S;
}

/**
 * Creates a CRM for tests of funnel logic: memory storage, a fake clock, reproducible ids,
 * tenant `test`, actor `tester`, silent logger, and every feature (tasks, activities, assignment,
 * custom fields, duplicates, imports, merges, reports, scoring, scheduler, observers, events, webhooks, access,
 * automations, timeline)
 * unless `features` lists fewer.
 *
 * @param options Any `createCrm` option, plus the clock's start (`now`) and the id seed.
 * @returns The crm with handles to its fake clock and storage.
 * @example
 * const { crm, clock } = await createTestCrm();
 * const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
 * clock.advance(3 * 86_400_000);
 * await crm.scheduler.tick();
 */
export async function createTestCrm<const F extends readonly CrmFeature[] = AllFeatures>(options: CreateTestCrmOptions<F> = {}): Promise<TestCrm<MemoryStorage, F>> {
  const { now, seed, features, ...crmOptions } = options;
  const clock = createFakeClock(now);
  const storage = (crmOptions.storage as MemoryStorage | undefined) ?? createMemoryStorage();
  const crm = await createCrm({
    tenantId: 'test',
    actor: { userId: 'tester' },
    logger: silentLogger,
    random: { seed: seed ?? 1 },
    ...crmOptions,
    storage,
    clock,
    features: (features ?? allFeatures()) as unknown as F,
  });
  return { crm: crm as CrmWith<F>, clock, storage };
}
