import type { CrmEvent, Page, RecordRef, TimelineOptions } from '@crmkit/core';
import type { ObserverSnapshot } from '@crmkit/core/observe';
import { useEffect } from 'react';
import type { QueryHookOptions } from './hook-options.js';
import { useObserver } from './use-observer.js';
import { useObserverInstance } from './use-observer-instance.js';

/** Options of `useTimeline`: `crm.timeline`'s options plus `initialData`. */
export interface UseTimelineOptions extends TimelineOptions, QueryHookOptions<Page<CrmEvent>> {}

/**
 * Everything that happened to a lead, contact, company or deal, newest first (`crm.timeline`), kept
 * current: new events about the record (or records linked to it) refetch the page.
 *
 * @param ref The record: `{ type: 'deal', id }`; may be an inline object (compared by value).
 * @param options `types`, `limit`, `cursor` and `initialData`.
 * @returns The observer snapshot; `data` is a page of events.
 * @example
 * const { data } = useTimeline({ type: 'deal', id: deal.id }, { limit: 20 });
 * return <ol>{data?.items.map((e) => <li key={e.id}>{e.type} {e.at}</li>)}</ol>;
 */
export function useTimeline(ref: RecordRef, options: UseTimelineOptions = {}): ObserverSnapshot<Page<CrmEvent>> {
  const { initialData, ...timelineOptions } = options;
  const observer = useObserverInstance((crm) => crm.observe.timeline(ref, timelineOptions));
  useEffect(() => observer.setTarget(ref, timelineOptions));
  return useObserver(observer, initialData);
}
