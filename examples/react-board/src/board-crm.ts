import type { CrmWith } from '@crmkit/core';
import { activities, type ActivitiesFeature } from '@crmkit/core/activities';
import { observers, type ObserversFeature } from '@crmkit/core/observe';
import { tasks, type TasksFeature } from '@crmkit/core/tasks';

/** The board's crm: the core plus tasks (agenda, next steps), activities (notes) and observers (the hooks). */
export type BoardCrm = CrmWith<[TasksFeature, ActivitiesFeature, ObserversFeature]>;

/** The features the board's crm is created with. */
export function boardFeatures(): [TasksFeature, ActivitiesFeature, ObserversFeature] {
  return [tasks(), activities(), observers()];
}
