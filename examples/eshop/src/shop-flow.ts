import { isCrmError, type Crm, type CrmWith, type Pipeline } from '@crmkit/core';
import type { ActivitiesFeature } from '@crmkit/core/activities';
import type { DuplicatesFeature } from '@crmkit/core/duplicates';
import type { ImportsFeature } from '@crmkit/core/imports';

export const PIPELINE_ID = 'pl_eshop';

/** Creates the shop's funnel on first run; later runs find it (re-runs are safe). */
export async function ensurePipeline(crm: Crm): Promise<Pipeline> {
  try {
    return await crm.pipelines.get(PIPELINE_ID);
  } catch (error) {
    if (!isCrmError(error, 'NOT_FOUND')) throw error;
    return crm.pipelines.create({
      id: PIPELINE_ID,
      name: 'E-shop orders',
      stages: [
        { key: 'request', name: 'Order placed', probability: 20, rottenDays: 2 },
        { key: 'quoted', name: 'Quote sent', probability: 50, rottenDays: 5 },
        { key: 'invoiced', name: 'Invoice sent', probability: 90, rottenDays: 10 },
      ],
    });
  }
}

/** The shop's crm: the core plus activities, duplicates (returning customers) and imports (the nightly customer file). */
export type ShopCrm = CrmWith<[ActivitiesFeature, DuplicatesFeature, ImportsFeature]>;
