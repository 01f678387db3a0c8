import type { RecordBase } from '../schema/record.js';
import type { ChangeBatch, StorageAdapter } from '../storage/storage-adapter.js';
import { Observer } from './observer.js';

/** Watches one record; refetches only when a batch touches that record. */
export class RecordObserver<T extends RecordBase> extends Observer<T> {
  /** @internal */
  constructor(
    storage: StorageAdapter,
    private readonly entity: string,
    private id: string,
    private readonly load: (id: string) => Promise<T>,
    initialData?: T,
  ) {
    super(storage, initialData);
  }

  /** Points the observer at another record (a hook's id changed). */
  setId(id: string): void {
    if (id === this.id) return;
    this.id = id;
    void this.refetch();
  }

  protected fetch(): Promise<T> {
    return this.load(this.id);
  }

  protected affectedBy(batch: ChangeBatch): boolean {
    return batch.changes.some((c) => c.entity === this.entity && c.id === this.id);
  }

  protected override share(previous: T | undefined, next: T): T {
    return previous && previous.id === next.id && previous.version === next.version ? previous : next;
  }
}
