import { matchFilter } from '../query/match.js';
import type { Filter, ListFilter } from '../query/query-spec.js';
import type { RecordBase } from '../schema/record.js';
import type { Page } from '../crm/list-options.js';
import type { ChangeBatch, StorageAdapter } from '../storage/storage-adapter.js';
import { copyInput } from '../crm/parse-input.js';
import { Observer } from './observer.js';
import { sameJson, shareRecords } from './structural-sharing.js';

/**
 * Watches a page of a list query. Refetches when a changed row matches the filter or is on the page
 * (or when another tab changed the entity without sending rows). Unchanged records keep their identity.
 */
export class ListObserver<T extends RecordBase, O extends { where?: ListFilter } = { where?: ListFilter }> extends Observer<Page<T>> {
  private options: O;

  /** @internal */
  constructor(
    storage: StorageAdapter,
    private readonly entity: string,
    options: O,
    private readonly load: (options: O) => Promise<Page<T>>,
    initialData?: Page<T>,
  ) {
    super(storage, initialData);
    // A copy: the caller may change or reuse its options object (and its filter) afterwards.
    this.options = copyInput(options, 'observe');
  }

  /** Changes the query; refetches only when it really differs. */
  setOptions(options: O): void {
    if (sameJson(options, this.options)) return;
    this.options = copyInput(options, 'observe');
    void this.refetch();
  }

  protected fetch(): Promise<Page<T>> {
    return this.load(this.options);
  }

  protected affectedBy(batch: ChangeBatch, current: Page<T> | undefined): boolean {
    const onPage = new Set(current?.items.map((r) => r.id));
    const filter = this.options.where && mayMatchFilter(this.options.where);
    return batch.changes.some((c) => c.entity === this.entity && (!c.row || onPage.has(c.id) || matchFilter(c.row, filter)));
  }

  protected override share(previous: Page<T> | undefined, next: Page<T>): Page<T> {
    const items = shareRecords(previous?.items, next.items);
    if (previous && items === previous.items && previous.nextCursor === next.nextCursor) return previous;
    return next.nextCursor === undefined ? { items } : { items, nextCursor: next.nextCursor };
  }
}

/**
 * A filter that matches at least every row the list filter matches: `same` needs the tenant's
 * identity settings to resolve, so here it is taken as "may match" (a refetch too many, never one too few).
 */
function mayMatchFilter(filter: ListFilter): Filter {
  if (filter.op === 'same') return { op: 'and', filters: [] };
  if (filter.op === 'and' || filter.op === 'or') return { op: filter.op, filters: filter.filters.map(mayMatchFilter) };
  return filter as Filter;
}
