import type { CrmFeature } from '../crm/feature.js';
import { ActivityService, logActivity } from './activity-service.js';

/** The activities feature: adds `crm.activities`. */
export type ActivitiesFeature = CrmFeature<'activities', ActivityService>;

/**
 * Activities as a crm feature: `crm.activities` records the calls, e-mails, meetings, messages and
 * notes that happened, links them to deals, contacts, companies and leads (their timelines show
 * them), restarts the deal's rotting clock and updates the client's last interaction.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { activities } from '@crmkit/core/activities';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [activities()] });
 * await crm.activities.log({ kind: 'call', direction: 'outbound', dealId, outcome: 'Demo agreed' });
 */
export function activities(): ActivitiesFeature {
  return { key: 'activities', setup: () => ({ api: (ctx) => new ActivityService(ctx), hooks: { activities: { log: logActivity } } }) };
}
