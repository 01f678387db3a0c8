import type { RecordBase } from '../schema/record.js';
import { Observer, type ChangeSource } from './observer.js';

/** Watches one record; refetches only when a batch touches that record. */
export class RecordObserver<T extends RecordBase> extends Observer<T> {
  #id: string;

  /** @internal */
  constructor(storage: ChangeSource, entity: string, id: string, load: (id: string) => Promise<T>, initialData?: T) {
    super(storage, {
      fetch: () => load(this.#id),
      affectedBy: (batch) => batch.changes.some((c) => c.entity === entity && c.id === this.#id),
      share: (previous, next) => (previous && previous.id === next.id && previous.version === next.version ? previous : next),
    }, initialData);
    this.#id = id;
  }

  /** Points the observer at another record (a hook's id changed). */
  setId(id: string): void {
    if (id === this.#id) return;
    this.#id = id;
    void this.refetch();
  }
}
