import type { CrmEvent } from '../events/event-map.js';
import type { CrmFeature } from '../crm/feature.js';
import type { Page } from '../crm/list-options.js';
import type { RecordRef } from '../schema/record.js';
import { EventLogService, readTimeline, type TimelineOptions } from './timeline-service.js';

/**
 * `crm.timeline(ref, options?)`: everything that happened to a lead, contact, company or deal (and the
 * records around it), newest first, paginated.
 *
 * @param ref `{ type: 'lead' | 'contact' | 'company' | 'deal', id }`; removed records keep their history.
 * @param options `types` (event types to keep), `limit` (1–1000, default 50), `cursor`.
 * @returns One page of events.
 * @throws CrmError `NOT_FOUND` for a record the tenant never had (or, in a view, one the principal may not read); `VALIDATION` for a bad ref or options.
 */
export type Timeline = (ref: RecordRef, options?: TimelineOptions) => Promise<Page<CrmEvent>>;

/** The timeline feature: adds `crm.timeline` and `crm.eventLog`. */
export type TimelineFeature = CrmFeature<'timeline', Timeline, { eventLog: EventLogService }>;

/**
 * Timelines and the event log as a crm feature: `crm.timeline(ref)` reads a record's history (its
 * events and those of the records around it: a contact's leads and deals, a company's contacts and
 * deals), `crm.eventLog.list` lists the persisted event log (an outbox to drain, a drill-down source).
 * Events are appended to the log by every core operation whether or not this feature is on: it only
 * adds the ways to read them. In a view (`crm.as`), both show only what the principal may read.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { timeline } from '@crmkit/core/timeline';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [timeline()] });
 * const { items } = await crm.timeline({ type: 'contact', id: ada.id });
 * const won = await crm.eventLog.list({ where: where.eq('type', 'deal.won'), limit: 100 });
 */
export function timeline(): TimelineFeature {
  return {
    key: 'timeline',
    setup: () => ({
      api: (ctx) => (ref, options) => readTimeline(ctx, ref, options),
      also: { eventLog: (ctx) => new EventLogService(ctx) },
    }),
  };
}
