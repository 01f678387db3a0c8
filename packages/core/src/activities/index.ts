// Entry point of @crmkit/core/activities: logged calls, e-mails, meetings, messages and notes as an opt-in crm feature.
export { activities, type ActivitiesFeature } from './activities-feature.js';
export type { ActivityService } from './activity-service.js';
