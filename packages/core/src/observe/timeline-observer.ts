import type { CrmEvent } from '../events/event-map.js';
import type { RecordRef } from '../schema/record.js';
import type { Page } from '../crm/list-options.js';
import type { TimelineOptions } from '../timeline/timeline-service.js';
import { copyInput } from '../crm/parse-input.js';
import { Observer, type ChangeSource } from './observer.js';
import { sameJson, shareRecords } from './structural-sharing.js';

/** A timeline page and the `type:id` keys it covers. */
export interface TimelineData {
  readonly page: Page<CrmEvent>;
  readonly keys: readonly string[];
}

/**
 * Watches a record's timeline: refetches when a new event concerns one of the records it covers,
 * or when a deal or contact is linked to or unlinked from the record.
 */
export class TimelineObserver extends Observer<Page<CrmEvent>> {
  #keys = new Set<string>();
  #ref: RecordRef;
  #options: TimelineOptions;

  /** @internal */
  constructor(storage: ChangeSource, ref: RecordRef, options: TimelineOptions, load: (ref: RecordRef, options: TimelineOptions) => Promise<TimelineData>, initialData?: Page<CrmEvent>) {
    super(storage, {
      fetch: async () => {
        const { page, keys } = await load(this.#ref, this.#options);
        this.#keys = new Set(keys);
        return page;
      },
      affectedBy: (batch) => {
        const field = this.#ref.type === 'company' ? 'companyId' : this.#ref.type === 'contact' ? 'contactId' : undefined;
        return batch.changes.some((c) => {
          if (c.entity === 'event') return !c.row || (c.row.refs as string[] | undefined)?.some((k) => this.#keys.has(k)) === true;
          if (field && (c.entity === 'deal' || c.entity === 'contact' || c.entity === 'lead')) return !c.row || c.row[field] === this.#ref.id || this.#keys.has(`${c.entity}:${c.id}`);
          return false;
        });
      },
      share: (previous, next) => {
        const items = shareRecords(previous?.items, next.items);
        if (previous && items === previous.items && previous.nextCursor === next.nextCursor) return previous;
        return next.nextCursor === undefined ? { items } : { items, nextCursor: next.nextCursor };
      },
    }, initialData);
    // Copies: the caller may change or reuse its objects afterwards.
    this.#ref = copyInput(ref, 'observe.timeline');
    this.#options = copyInput(options, 'observe.timeline');
  }

  /**
   * Points the observer at another record or page; refetches only when it really differs.
   *
   * @throws CrmError `VALIDATION` when the reference or options are not plain data.
   */
  setTarget(ref: RecordRef, options: TimelineOptions = {}): void {
    const target = copyInput(ref, 'observe.timeline');
    const copy = copyInput(options, 'observe.timeline');
    if (sameJson(target, this.#ref) && sameJson(copy, this.#options)) return;
    this.#ref = target;
    this.#options = copy;
    void this.refetch();
  }
}
