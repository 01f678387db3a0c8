import type { CrmEvent } from '../events/event-map.js';
import type { RecordRef } from '../schema/record.js';
import type { Page } from '../crm/list-options.js';
import type { TimelineOptions } from '../timeline/timeline-service.js';
import type { ChangeBatch, StorageAdapter } from '../storage/storage-adapter.js';
import { copyInput } from '../crm/parse-input.js';
import { Observer } from './observer.js';
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
  private keys = new Set<string>();

  private ref: RecordRef;
  private options: TimelineOptions;

  /** @internal */
  constructor(
    storage: StorageAdapter,
    ref: RecordRef,
    options: TimelineOptions,
    private readonly load: (ref: RecordRef, options: TimelineOptions) => Promise<TimelineData>,
    initialData?: Page<CrmEvent>,
  ) {
    super(storage, initialData);
    // Copies: the caller may change or reuse its objects afterwards.
    this.ref = copyInput(ref, 'observe.timeline');
    this.options = copyInput(options, 'observe.timeline');
  }

  setTarget(ref: RecordRef, options: TimelineOptions = {}): void {
    if (sameJson(ref, this.ref) && sameJson(options, this.options)) return;
    this.ref = copyInput(ref, 'observe.timeline');
    this.options = copyInput(options, 'observe.timeline');
    void this.refetch();
  }

  protected async fetch(): Promise<Page<CrmEvent>> {
    const { page, keys } = await this.load(this.ref, this.options);
    this.keys = new Set(keys);
    return page;
  }

  protected affectedBy(batch: ChangeBatch): boolean {
    const field = this.ref.type === 'company' ? 'companyId' : this.ref.type === 'contact' ? 'contactId' : undefined;
    return batch.changes.some((c) => {
      if (c.entity === 'event') return !c.row || (c.row.refs as string[] | undefined)?.some((k) => this.keys.has(k)) === true;
      if (field && (c.entity === 'deal' || c.entity === 'contact' || c.entity === 'lead')) return !c.row || c.row[field] === this.ref.id || this.keys.has(`${c.entity}:${c.id}`);
      return false;
    });
  }

  protected override share(previous: Page<CrmEvent> | undefined, next: Page<CrmEvent>): Page<CrmEvent> {
    const items = shareRecords(previous?.items, next.items);
    if (previous && items === previous.items && previous.nextCursor === next.nextCursor) return previous;
    return next.nextCursor === undefined ? { items } : { items, nextCursor: next.nextCursor };
  }
}
