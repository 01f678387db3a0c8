// Entry point of @crmkit/core/timeline: record timelines and the event log as an opt-in crm feature.
export { timeline, type Timeline, type TimelineFeature } from './timeline-feature.js';
export type { EventLogService, TimelineOptions } from './timeline-service.js';
