import type { CancelTimer, Clock } from '../domain/clock.js';
import type { Agenda, AgendaOptions } from '../tasks/agenda.js';
import type { ChangeBatch, StorageAdapter } from '../storage/storage-adapter.js';
import { copyInput } from '../crm/parse-input.js';
import { Observer } from './observer.js';
import { sameJson, shareRecords } from './structural-sharing.js';

export type { AgendaOptions };

/**
 * Watches an owner's agenda; refetches when one of their tasks (or a task on it) changes, and when
 * time alone moves a task between sections (it becomes late, or the day ends: `agenda.validUntil`).
 */
export class AgendaObserver extends Observer<Agenda> {
  private options: AgendaOptions;
  private cancelTimer: CancelTimer | undefined;

  /** @internal */
  constructor(
    storage: StorageAdapter,
    options: AgendaOptions,
    private readonly load: (options: AgendaOptions) => Promise<Agenda>,
    initialData?: Agenda,
    private readonly clock?: Clock,
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

  protected async fetch(): Promise<Agenda> {
    const agenda = await this.load(this.options);
    this.armRefresh(agenda.validUntil);
    return agenda;
  }

  protected override stopped(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private armRefresh(validUntil: string): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (!this.clock || !this.isWatching) return;
    this.cancelTimer = this.clock.setTimer(() => void this.refetch(), Math.max(0, Date.parse(validUntil) - this.clock.now()));
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
    if (previous && overdue === previous.overdue && today === previous.today && upcoming === previous.upcoming && previous.nextCursor === next.nextCursor && next.validUntil === previous.validUntil) return previous;
    return next.nextCursor === undefined ? { overdue, today, upcoming, validUntil: next.validUntil } : { overdue, today, upcoming, validUntil: next.validUntil, nextCursor: next.nextCursor };
  }
}
