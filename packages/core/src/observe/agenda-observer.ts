import type { CancelTimer, Clock } from '../domain/clock.js';
import type { Agenda, AgendaOptions } from '../tasks/agenda.js';
import { copyInput } from '../crm/parse-input.js';
import { Observer, type ChangeSource } from './observer.js';
import { sameJson, shareRecords } from './structural-sharing.js';

export type { AgendaOptions };

/**
 * Watches an owner's agenda; refetches when one of their tasks (or a task on it) changes, and when
 * time alone moves a task between sections (it becomes late, or the day ends: `agenda.validUntil`).
 */
export class AgendaObserver extends Observer<Agenda> {
  #options: AgendaOptions;
  #cancelTimer: CancelTimer | undefined;
  readonly #clock: Clock | undefined;

  /** @internal */
  constructor(storage: ChangeSource, options: AgendaOptions, load: (options: AgendaOptions) => Promise<Agenda>, initialData?: Agenda, clock?: Clock) {
    super(storage, {
      fetch: async () => {
        const agenda = await load(this.#options);
        this.#armRefresh(agenda.validUntil);
        return agenda;
      },
      affectedBy: (batch, current) => {
        const shown = new Set([...(current?.overdue ?? []), ...(current?.today ?? []), ...(current?.upcoming ?? [])].map((t) => t.id));
        return batch.changes.some(
          (c) => c.entity === 'task' && (!c.row || shown.has(c.id) || this.#options.ownerId === undefined || c.row.ownerId === this.#options.ownerId),
        );
      },
      share: (previous, next) => {
        const overdue = shareRecords(previous?.overdue, next.overdue);
        const today = shareRecords(previous?.today, next.today);
        const upcoming = shareRecords(previous?.upcoming, next.upcoming);
        if (previous && overdue === previous.overdue && today === previous.today && upcoming === previous.upcoming && previous.nextCursor === next.nextCursor && next.validUntil === previous.validUntil) return previous;
        return next.nextCursor === undefined ? { overdue, today, upcoming, validUntil: next.validUntil } : { overdue, today, upcoming, validUntil: next.validUntil, nextCursor: next.nextCursor };
      },
      stopped: () => {
        this.#cancelTimer?.();
        this.#cancelTimer = undefined;
      },
    }, initialData);
    this.#clock = clock;
    // A copy: the caller may change or reuse its options object afterwards.
    this.#options = copyInput(options, 'observe.agenda');
  }

  /**
   * Changes the query; refetches only when it really differs.
   *
   * @throws CrmError `VALIDATION` when the options are not plain data.
   */
  setOptions(options: AgendaOptions): void {
    const copy = copyInput(options, 'observe.agenda');
    if (sameJson(copy, this.#options)) return;
    this.#options = copy;
    void this.refetch();
  }

  #armRefresh(validUntil: string): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (!this.#clock || !this.isWatching) return;
    this.#cancelTimer = this.#clock.setTimer(() => void this.refetch(), Math.max(0, Date.parse(validUntil) - this.#clock.now()));
  }
}
