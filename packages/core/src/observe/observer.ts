import { isCrmError, validationError, type CrmError } from '../errors/crm-error.js';
import { readCallerInput } from '../crm/parse-input.js';
import { CONFIG_REVISION } from '../crm/context.js';
import { deepFreeze, frozenCopy } from '../storage/deep-freeze.js';
import { resyncs, type ChangeBatch, type StorageAdapter } from '../storage/storage-adapter.js';

/** What an observer shows: explicit loading and error states, the last data while refetching. */
export interface ObserverSnapshot<T> {
  readonly status: 'loading' | 'success' | 'error';
  readonly data: T | undefined;
  /** The last failure; kept with `status: 'error'` until a fetch succeeds (with `NOT_FOUND`, `data` is cleared). */
  readonly error: CrmError | Error | undefined;
  /** A fetch is in flight (first load or a refresh after a change). */
  readonly isFetching: boolean;
}

/** Where an observer hears of committed changes: a storage adapter, or `tenantChanges` of one. */
export type ChangeSource = Pick<StorageAdapter, 'onChange'>;

/**
 * The batches of `storage` that concern `tenantId`: those with a change of the tenant, and resyncs
 * naming it (or no tenant). Another tenant's commits — in this process, or reported by another
 * (PostgreSQL's `'poll'` mode names the tenants whose feed moved) — make no observer of this one re-read.
 */
export function tenantChanges(storage: ChangeSource, tenantId: string): ChangeSource {
  return { onChange: (listener) => storage.onChange((batch) => void ((resyncs(batch, tenantId) || batch.changes.some((c) => c.tenantId === tenantId)) && listener(batch))) };
}

/** What one kind of observer adds to the shared machinery. */
export interface ObserverHooks<T> {
  /** Loads the data (one read transaction). */
  fetch(): Promise<T>;
  /** Can this committed batch change the data? Must err on the side of `true`. */
  affectedBy(batch: ChangeBatch, current: T | undefined): boolean;
  /** Reuses unchanged parts of the previous data so unchanged objects keep their identity. */
  share?(previous: T | undefined, next: T): T;
  /** Called when the last subscriber leaves: release timers and other resources here. */
  stopped?(): void;
}

/** Set by `Observer`'s static block: the one way to replace an observer's data from outside the class. */
let replaceData: <T>(observer: Observer<T>, data: T) => void;

/**
 * A subscribable, lazily started view of CRM data (TanStack's Subscribable). It fetches on the first
 * subscriber, refetches only when a committed change batch can affect it (or changes the configuration:
 * access policy and directory, custom fields), keeps snapshots
 * referentially stable until their data changes, and stops when the last subscriber leaves.
 * `getSnapshot` is safe for `useSyncExternalStore`. Snapshots are deeply frozen (they are shared by
 * every subscriber), and options and initial data passed in are copied, never kept or frozen.
 * Its machinery is `#private`: the methods a caller can reach are the public ones.
 */
export abstract class Observer<T> {
  readonly #listeners = new Set<() => void>();
  #snapshot: ObserverSnapshot<T>;
  #stopWatching: (() => void) | undefined;
  #generation = 0;
  #scheduled = false;
  readonly #storage: ChangeSource;
  readonly #hooks: ObserverHooks<T>;

  static {
    replaceData = (observer, data) => observer.#setData(data);
  }

  protected constructor(storage: ChangeSource, hooks: ObserverHooks<T>, initialData?: T) {
    this.#storage = storage;
    this.#hooks = hooks;
    // The caller's initial data is copied, never frozen or kept: the snapshot is the observer's own.
    this.#snapshot = initialData === undefined
      ? { status: 'loading', data: undefined, error: undefined, isFetching: false }
      : { status: 'success', data: readCallerInput('observe', () => frozenCopy(initialData), ['initialData']), error: undefined, isFetching: false };
  }

  /** The current snapshot; the same object until something changes. */
  getSnapshot = (): ObserverSnapshot<T> => this.#snapshot;

  /**
   * Adds a listener; the first one starts fetching and watching. Returns the unsubscribe function.
   *
   * @throws CrmError `VALIDATION` when `listener` is not a function.
   * @example
   * const off = crm.observe.deal(id).subscribe(() => render(observer.getSnapshot()));
   */
  subscribe = (listener: () => void): (() => void) => {
    if (typeof listener !== 'function') throw validationError('observe.subscribe', [{ path: ['listener'], code: 'invalid_type', message: 'must be a function' }]);
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stop();
    };
  };

  /** Fetches again now. */
  refetch(): Promise<void> {
    return this.#run();
  }

  protected get data(): T | undefined {
    return this.#snapshot.data;
  }

  /** True between the first subscriber and the last unsubscribe. */
  protected get isWatching(): boolean {
    return this.#stopWatching !== undefined;
  }

  #share(previous: T | undefined, next: T): T {
    return this.#hooks.share ? this.#hooks.share(previous, next) : next;
  }

  /** Replaces the data locally (optimistic updates); the next fetch corrects it. */
  #setData(data: T): void {
    this.#update({ status: 'success', data: this.#share(this.#snapshot.data, data), error: undefined, isFetching: this.#snapshot.isFetching });
  }

  #start(): void {
    this.#stopWatching = this.#storage.onChange((batch) => {
      // A resync batch says "others committed, unknown what": anything may have changed.
      // A configuration change (access policy or directory, custom fields, calendar) may change what
      // the view may read and how: every observer re-reads.
      if (batch.resync || batch.changes.some((c) => c.id === CONFIG_REVISION && c.entity === 'setting') || this.#hooks.affectedBy(batch, this.#snapshot.data)) this.#schedule();
    });
    void this.#run();
  }

  #stop(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    this.#generation++; // results of fetches in flight are dropped
    this.#hooks.stopped?.();
  }

  /** Coalesces the batches of one burst into one refetch. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#stopWatching) void this.#run();
    });
  }

  async #run(): Promise<void> {
    const generation = ++this.#generation;
    if (!this.#snapshot.isFetching) this.#update({ ...this.#snapshot, isFetching: true });
    try {
      const next = await this.#hooks.fetch();
      if (generation !== this.#generation) return;
      this.#update({ status: 'success', data: this.#share(this.#snapshot.data, next), error: undefined, isFetching: false });
    } catch (error) {
      if (generation !== this.#generation) return;
      if (isCrmError(error, 'CLOSED')) return;
      // NOT_FOUND: the record is gone or now hidden from the principal; its last data must not stay on screen.
      const data = isCrmError(error, 'NOT_FOUND') ? undefined : this.#snapshot.data;
      this.#update({ ...this.#snapshot, data, status: 'error', error: error as Error, isFetching: false });
    }
  }

  #update(next: ObserverSnapshot<T>): void {
    const current = this.#snapshot;
    if (current.status === next.status && current.data === next.data && current.error === next.error && current.isFetching === next.isFetching) return;
    // Every subscriber gets the same snapshot: frozen, so none can change what the others see.
    this.#snapshot = Object.freeze({ ...next, data: deepFreeze(next.data) });
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Replaces an observer's data locally (a board's optimistic moves); the next fetch corrects it. */
export function setObserverData<T>(observer: Observer<T>, data: T): void {
  replaceData(observer, data);
}
