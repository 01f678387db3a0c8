import { weightedAmount } from '../domain/money.js';
import { validationError, type CrmError } from '../errors/crm-error.js';
import type { Deal } from '../schema/deal.js';
import type { Board, BoardColumn, BoardOptions, BoardTotal } from '../deals/deal-board.js';
import { copyInput, readCallerInput } from '../crm/parse-input.js';
import { Observer, setObserverData, type ChangeSource } from './observer.js';
import { sameJson, shareRecords } from './structural-sharing.js';

/** A board with the state of the moves in flight. */
export interface BoardView extends Board {
  /** Deals with a move in flight (shown optimistically). */
  readonly pending: readonly string[];
  /** The last failed move, rolled back; cleared by the next successful one. */
  readonly lastError?: { readonly dealId: string; readonly action: BoardAction; readonly error: CrmError | Error };
}

export type BoardAction = 'move' | 'postpone' | 'lose' | 'win';

/** How a board action ended: the view was kept, or rolled back with the error. */
export type BoardActionResult = { readonly ok: true } | { readonly ok: false; readonly error: CrmError | Error };

/** The deal moves a board performs: the same calls as `crm.deals`, injected so the observer stays storage-agnostic. */
export interface BoardMoves {
  advance(id: string, options?: { toStage: string }): Promise<Deal>;
  postpone(id: string, options: { until: string; reason?: string }): Promise<Deal>;
  lose(id: string, options: { reason: string; comment?: string }): Promise<Deal>;
  win(id: string): Promise<Deal>;
}

function addTotal(totals: readonly BoardTotal[], deal: Pick<Deal, 'value' | 'weightedValue'>, sign: 1 | -1): BoardTotal[] {
  // A view's card without the amount or weighted amount (field rules): its board carries no totals to adjust.
  if (!deal.value || !deal.weightedValue) return totals as BoardTotal[];
  const out = totals.map((t) => ({ ...t }));
  let total = out.find((t) => t.currency === deal.value.currency);
  if (!total) out.push((total = { currency: deal.value.currency, amount: 0, weighted: 0 }));
  (total as { amount: number }).amount += sign * deal.value.amount;
  (total as { weighted: number }).weighted += sign * deal.weightedValue.amount;
  return out.filter((t) => t.amount !== 0 || t.weighted !== 0 || sign === 1);
}

/** Keeps unchanged columns, cards and the pipeline of the previous view (their identity). */
function shareBoard(previous: BoardView | undefined, next: BoardView): BoardView {
  if (!previous) return next;
  let same = previous.columns.length === next.columns.length && sameJson(previous.pipeline, next.pipeline);
  const columns = next.columns.map((column, i) => {
    const old = previous.columns.find((c) => c.stage.key === column.stage.key);
    if (!old) return (same = false), column;
    const deals = shareRecords(old.deals, column.deals);
    const kept =
      deals === old.deals && old.count === column.count && old.nextCursor === column.nextCursor && sameJson(old.totals, column.totals) && sameJson(old.stage, column.stage)
        ? old
        : { ...column, deals };
    if (kept !== previous.columns[i]) same = false;
    return kept;
  });
  const pipeline = sameJson(previous.pipeline, next.pipeline) ? previous.pipeline : next.pipeline;
  const pending = sameJson(previous.pending, next.pending) ? previous.pending : next.pending;
  if (same && pending === previous.pending && previous.lastError === next.lastError) return previous;
  return { ...next, pipeline, columns: same ? previous.columns : columns, pending };
}

/**
 * Watches a pipeline board. A changed deal re-creates only its card and its column; other columns and
 * cards keep their identity, so a UI re-renders the card and its column header, not the board.
 * `move`, `postpone`, `lose` and `win` update the view at once and roll back on `RULE_VIOLATION`,
 * `CONFLICT` or any failure, exposing the error in `lastError`.
 */
export class BoardObserver extends Observer<BoardView> {
  readonly #pending = new Set<string>();
  #options: BoardOptions;
  #pipelineId: string;
  readonly #moves: BoardMoves;

  /** @internal */
  constructor(
    storage: ChangeSource,
    pipelineId: string,
    options: BoardOptions,
    load: (pipelineId: string, options: BoardOptions) => Promise<Board>,
    moves: BoardMoves,
    initialData?: Board,
  ) {
    super(storage, {
      fetch: async () => {
        const board = await load(this.#pipelineId, this.#options);
        return { ...board, pending: [...this.#pending], ...(this.#current()?.lastError ? { lastError: this.#current()!.lastError! } : {}) };
      },
      affectedBy: (batch, current) => {
        const shown = new Set(current?.columns.flatMap((c) => c.deals.map((d) => d.id)));
        return batch.changes.some(
          (c) =>
            (c.entity === 'deal' && (!c.row || c.row.pipelineId === this.#pipelineId || shown.has(c.id))) ||
            (c.entity === 'pipeline' && c.id === this.#pipelineId),
        );
      },
      share: shareBoard,
    }, initialData === undefined ? undefined : readCallerInput('observe.board', () => ({ ...initialData, pending: [] }), ['initialData']));
    this.#pipelineId = pipelineId;
    this.#moves = moves;
    // A copy: the caller may change or reuse its options object (filter, cursors) afterwards.
    this.#options = copyInput(options, 'observe.board');
  }

  /**
   * Points the observer at another pipeline or board page; refetches only when it really differs.
   *
   * @throws CrmError `VALIDATION` when the options are not plain data.
   */
  setTarget(pipelineId: string, options: BoardOptions = {}): void {
    const copy = copyInput(options, 'observe.board');
    if (pipelineId === this.#pipelineId && sameJson(copy, this.#options)) return;
    this.#pipelineId = pipelineId;
    this.#options = copy;
    void this.refetch();
  }

  /**
   * The productive next step: moves the card to the next open stage, as `crm.deals.advance` without
   * `toStage` decides (the view shows that stage at once; a rule violation rolls it back).
   */
  advance(dealId: string): Promise<BoardActionResult> {
    const view = this.#current();
    const deal = this.#find(dealId);
    const open = view?.pipeline.stages.filter((s) => s.kind === 'open') ?? [];
    const next = deal ? open[open.findIndex((s) => s.key === deal.stageKey) + 1] : undefined;
    return this.#act(dealId, 'move', (d) => (next ? this.#relocate(d, next.key) : undefined), () => this.#moves.advance(dealId));
  }

  /** Moves a card to another open stage (the funnel's `advance` with `toStage`). */
  move(dealId: string, toStage: string): Promise<BoardActionResult> {
    return this.#act(dealId, 'move', (deal) => this.#relocate(deal, toStage), () => this.#moves.advance(dealId, { toStage }));
  }

  /** Postpones the card's next step; it stays in its column. */
  postpone(dealId: string, until: string, reason?: string): Promise<BoardActionResult> {
    return this.#act(dealId, 'postpone', (deal) => this.#replace({ ...deal, postponeCount: deal.postponeCount + 1, stagePostponeCount: deal.stagePostponeCount + 1 }), () =>
      this.#moves.postpone(dealId, reason ? { until, reason } : { until }),
    );
  }

  /** Loses the deal: the card leaves the open columns. */
  lose(dealId: string, reason: string, comment?: string): Promise<BoardActionResult> {
    const lost = this.#current()?.pipeline.stages.find((s) => s.kind === 'lost')?.key;
    return this.#act(dealId, 'lose', (deal) => (lost ? this.#relocate({ ...deal, status: 'lost' }, lost) : undefined), () => this.#moves.lose(dealId, comment ? { reason, comment } : { reason }));
  }

  /** Wins the deal: the card leaves the open columns. */
  win(dealId: string): Promise<BoardActionResult> {
    const won = this.#current()?.pipeline.stages.find((s) => s.kind === 'won')?.key;
    return this.#act(dealId, 'win', (deal) => (won ? this.#relocate({ ...deal, status: 'won' }, won) : undefined), () => this.#moves.win(dealId));
  }

  #current(): BoardView | undefined {
    return this.data;
  }

  #find(dealId: string): Deal | undefined {
    for (const column of this.#current()?.columns ?? []) {
      const deal = column.deals.find((d) => d.id === dealId);
      if (deal) return deal;
    }
    return undefined;
  }

  /** The view with `deal` moved to `stageKey` (removed from the board when that column is not shown). */
  #relocate(deal: Deal, stageKey: string): BoardView | undefined {
    const view = this.#current();
    const stage = view?.pipeline.stages.find((s) => s.key === stageKey);
    if (!view || !stage) return undefined;
    // Only fields the card already shows are recomputed (a view may not read the probability or amount).
    const moved: Deal = deal.value && deal.weightedValue ? { ...deal, stageKey, probability: stage.probability, weightedValue: { amount: weightedAmount(deal.value.amount, stage.probability), currency: deal.value.currency } } : { ...deal, stageKey };
    const columns = view.columns.map((column): BoardColumn => {
      if (column.deals.some((d) => d.id === deal.id)) {
        return { ...column, deals: column.deals.filter((d) => d.id !== deal.id), count: column.count - 1, totals: addTotal(column.totals, deal, -1) };
      }
      if (column.stage.key === stageKey) return { ...column, deals: [...column.deals, moved], count: column.count + 1, totals: addTotal(column.totals, moved, 1) };
      return column;
    });
    return { ...view, columns };
  }

  #replace(deal: Deal): BoardView | undefined {
    const view = this.#current();
    if (!view) return undefined;
    return { ...view, columns: view.columns.map((c) => (c.deals.some((d) => d.id === deal.id) ? { ...c, deals: c.deals.map((d) => (d.id === deal.id ? deal : d)) } : c)) };
  }

  async #act(dealId: string, action: BoardAction, optimistic: (deal: Deal) => BoardView | undefined, call: () => Promise<unknown>): Promise<BoardActionResult> {
    // A deal id that is no id is refused like a failed move, before the view shows anything.
    if (typeof dealId !== 'string') return { ok: false, error: validationError('observe.board', [{ path: ['dealId'], code: 'invalid_type', message: 'must be a deal id' }]) };
    const before = this.#current();
    const deal = this.#find(dealId);
    this.#pending.add(dealId);
    const next = deal ? optimistic(deal) : undefined;
    if (next) setObserverData(this, { ...next, pending: [...this.#pending] });
    try {
      await call();
      this.#pending.delete(dealId);
      const view = this.#current();
      if (view) {
        const { lastError: _cleared, ...rest } = view;
        setObserverData(this, { ...rest, pending: [...this.#pending] });
      }
      return { ok: true };
    } catch (error) {
      this.#pending.delete(dealId);
      const base = before ?? this.#current();
      if (base) setObserverData(this, { ...base, pending: [...this.#pending], lastError: { dealId, action, error: error as Error } });
      void this.refetch();
      return { ok: false, error: error as Error };
    }
  }
}
