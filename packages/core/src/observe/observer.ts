import { isCrmError, type CrmError } from '../errors/crm-error.js';
import { CONFIG_REVISION } from '../crm/context.js';
import { deepFreeze, frozenCopy } from '../storage/deep-freeze.js';
import type { ChangeBatch, StorageAdapter } from '../storage/storage-adapter.js';

/** What an observer shows: explicit loading and error states, the last data while refetching. */
export interface ObserverSnapshot<T> {
  readonly status: 'loading' | 'success' | 'error';
  readonly data: T | undefined;
  /** The last failure; kept with `status: 'error'` until a fetch succeeds (with `NOT_FOUND`, `data` is cleared). */
  readonly error: CrmError | Error | undefined;
  /** A fetch is in flight (first load or a refresh after a change). */
  readonly isFetching: boolean;
}

/**
 * A subscribable, lazily started view of CRM data (TanStack's Subscribable). It fetches on the first
 * subscriber, refetches only when a committed change batch can affect it (or changes the configuration:
 * access policy and directory, custom fields), keeps snapshots
 * referentially stable until their data changes, and stops when the last subscriber leaves.
 * `getSnapshot` is safe for `useSyncExternalStore`. Snapshots are deeply frozen (they are shared by
 * every subscriber), and options and initial data passed in are copied, never kept or frozen.
 */
export abstract class Observer<T> {
  private readonly listeners = new Set<() => void>();
  private snapshot: ObserverSnapshot<T>;
  private stopWatching: (() => void) | undefined;
  private generation = 0;
  private scheduled = false;

  protected constructor(
    private readonly storage: StorageAdapter,
    initialData?: T,
  ) {
    // The caller's initial data is copied, never frozen or kept: the snapshot is the observer's own.
    this.snapshot = initialData === undefined
      ? { status: 'loading', data: undefined, error: undefined, isFetching: false }
      : { status: 'success', data: frozenCopy(initialData), error: undefined, isFetching: false };
  }

  /** Loads the data (one read transaction). */
  protected abstract fetch(): Promise<T>;

  /** Can this committed batch change the data? Must err on the side of `true`. */
  protected abstract affectedBy(batch: ChangeBatch, current: T | undefined): boolean;

  /** Reuses unchanged parts of the previous data so unchanged objects keep their identity. */
  protected share(_previous: T | undefined, next: T): T {
    return next;
  }

  /** The current snapshot; the same object until something changes. */
  getSnapshot = (): ObserverSnapshot<T> => this.snapshot;

  /**
   * Adds a listener; the first one starts fetching and watching. Returns the unsubscribe function.
   *
   * @example
   * const off = crm.observe.deal(id).subscribe(() => render(observer.getSnapshot()));
   */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  };

  /** Fetches again now. */
  refetch(): Promise<void> {
    return this.run();
  }

  /** Replaces the data locally (optimistic updates); the next fetch corrects it. */
  protected setData(data: T): void {
    this.update({ status: 'success', data: this.share(this.snapshot.data, data), error: undefined, isFetching: this.snapshot.isFetching });
  }

  protected get data(): T | undefined {
    return this.snapshot.data;
  }

  /** True between the first subscriber and the last unsubscribe. */
  protected get isWatching(): boolean {
    return this.stopWatching !== undefined;
  }

  /** Called when the last subscriber leaves: release timers and other resources here. */
  protected stopped(): void {}

  protected notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private start(): void {
    this.stopWatching = this.storage.onChange((batch) => {
      // A resync batch says "others committed, unknown what": anything may have changed.
      // A configuration change (access policy or directory, custom fields, calendar) may change what
      // the view may read and how: every observer re-reads.
      if (batch.resync || batch.changes.some((c) => c.id === CONFIG_REVISION && c.entity === 'setting') || this.affectedBy(batch, this.snapshot.data)) this.schedule();
    });
    void this.run();
  }

  private stop(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.generation++; // results of fetches in flight are dropped
    this.stopped();
  }

  /** Coalesces the batches of one burst into one refetch. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.stopWatching) void this.run();
    });
  }

  private async run(): Promise<void> {
    const generation = ++this.generation;
    if (!this.snapshot.isFetching) this.update({ ...this.snapshot, isFetching: true });
    try {
      const next = await this.fetch();
      if (generation !== this.generation) return;
      this.update({ status: 'success', data: this.share(this.snapshot.data, next), error: undefined, isFetching: false });
    } catch (error) {
      if (generation !== this.generation) return;
      if (isCrmError(error, 'CLOSED')) return;
      // NOT_FOUND: the record is gone or now hidden from the principal; its last data must not stay on screen.
      const data = isCrmError(error, 'NOT_FOUND') ? undefined : this.snapshot.data;
      this.update({ ...this.snapshot, data, status: 'error', error: error as Error, isFetching: false });
    }
  }

  private update(next: ObserverSnapshot<T>): void {
    const current = this.snapshot;
    if (current.status === next.status && current.data === next.data && current.error === next.error && current.isFetching === next.isFetching) return;
    // Every subscriber gets the same snapshot: frozen, so none can change what the others see.
    this.snapshot = Object.freeze({ ...next, data: deepFreeze(next.data) });
    this.notify();
  }
}
