import { matchFilter } from '../query/match.js';
import type { Filter, ListFilter } from '../query/query-spec.js';
import type { RecordBase } from '../schema/record.js';
import type { Page } from '../crm/list-options.js';
import { copyInput } from '../crm/parse-input.js';
import { Observer, type ChangeSource } from './observer.js';
import { sameJson, shareRecords } from './structural-sharing.js';

/**
 * Watches a page of a list query. Refetches when a changed row matches the filter or is on the page
 * (or when another tab changed the entity without sending rows). Unchanged records keep their identity.
 */
export class ListObserver<T extends RecordBase, O extends { where?: ListFilter } = { where?: ListFilter }> extends Observer<Page<T>> {
  #options: O;

  /** @internal */
  constructor(storage: ChangeSource, entity: string, options: O, load: (options: O) => Promise<Page<T>>, initialData?: Page<T>) {
    super(storage, {
      fetch: () => load(this.#options),
      affectedBy: (batch, current) => {
        const onPage = new Set(current?.items.map((r) => r.id));
        const filter = this.#options.where && mayMatchFilter(this.#options.where);
        return batch.changes.some((c) => c.entity === entity && (!c.row || onPage.has(c.id) || matchFilter(c.row, filter)));
      },
      share: (previous, next) => {
        const items = shareRecords(previous?.items, next.items);
        if (previous && items === previous.items && previous.nextCursor === next.nextCursor) return previous;
        return next.nextCursor === undefined ? { items } : { items, nextCursor: next.nextCursor };
      },
    }, initialData);
    // A copy: the caller may change or reuse its options object (and its filter) afterwards.
    this.#options = copyInput(options, 'observe');
  }

  /**
   * Changes the query; refetches only when it really differs.
   *
   * @throws CrmError `VALIDATION` when the options are not plain data.
   */
  setOptions(options: O): void {
    const copy = copyInput(options, 'observe');
    if (sameJson(copy, this.#options)) return;
    this.#options = copy;
    void this.refetch();
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
