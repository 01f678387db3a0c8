import type { Agenda, AgendaOptions } from '../tasks/agenda.js';
import type { ChangeBatch, StorageAdapter } from '../storage/storage-adapter.js';
import { copyInput } from '../crm/parse-input.js';
import { Observer } from './observer.js';
import { sameJson, shareRecords } from './structural-sharing.js';

export type { AgendaOptions };

/** Watches an owner's agenda; refetches when one of their tasks (or a task on it) changes. */
export class AgendaObserver extends Observer<Agenda> {
  private options: AgendaOptions;

  /** @internal */
  constructor(
    storage: StorageAdapter,
    options: AgendaOptions,
    private readonly load: (options: AgendaOptions) => Promise<Agenda>,
    initialData?: Agenda,
  ) {
    super(storage, initialData);
    // A copy: the caller may change or reuse its options object afterwards.
    this.options = copyInput(options, 'observe.agenda');
  }

  setOptions(options: AgendaOptions): void {
    if (sameJson(options, this.options)) return;
    this.options = copyInput(options, 'observe.agenda');
    void this.refetch();
  }

  protected fetch(): Promise<Agenda> {
    return this.load(this.options);
  }

  protected affectedBy(batch: ChangeBatch, current: Agenda | undefined): boolean {
    const shown = new Set([...(current?.overdue ?? []), ...(current?.today ?? []), ...(current?.upcoming ?? [])].map((t) => t.id));
    return batch.changes.some(
      (c) => c.entity === 'task' && (!c.row || shown.has(c.id) || this.options.ownerId === undefined || c.row.ownerId === this.options.ownerId),
    );
  }

  protected override share(previous: Agenda | undefined, next: Agenda): Agenda {
    const overdue = shareRecords(previous?.overdue, next.overdue);
    const today = shareRecords(previous?.today, next.today);
    const upcoming = shareRecords(previous?.upcoming, next.upcoming);
    if (previous && overdue === previous.overdue && today === previous.today && upcoming === previous.upcoming && previous.nextCursor === next.nextCursor) return previous;
    return next.nextCursor === undefined ? { overdue, today, upcoming } : { overdue, today, upcoming, nextCursor: next.nextCursor };
  }
}
