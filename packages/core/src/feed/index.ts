// Entry point of @crmkit/core/feed: the change feed (`crm.events`) with durable, partitioned, leased consumers.
export { events, type EventsFeature } from './events-feature.js';
export type { EventsApi, Consumer, ReadFeedOptions, ParkedEvent } from './events-api.js';
export type { FeedPage } from '../consumers/feed-read.js';
export type { ConsumerOptions, BackoffOptions, EventHandler, HandlerContext, PassReport } from '../consumers/consumer-options.js';
export type { ConsumerStatus, PartitionStatus } from '../consumers/consumer-status.js';
export type { ConsumerError } from '../consumers/consumer-rows.js';
export type { DrainReport } from '../consumers/consumer-runner.js';
export type { PruneReport } from '../consumers/backlog.js';
