import type { Board, BoardOptions, CrmError, Pipeline } from '@crmkit/core';
import type { BoardActionResult, BoardObserver, BoardView, ObserverSnapshot } from '@crmkit/core/observe';
import { useEffect, useMemo } from 'react';
import type { QueryHookOptions } from './hook-options.js';
import { sameKeys } from './same-keys.js';
import { useObserverInstance } from './use-observer-instance.js';
import { useObserverSelector } from './use-observer-selector.js';

/** Options of `usePipelineBoard`: `crm.deals.board`'s options plus `initialData`. */
export interface PipelineBoardOptions extends BoardOptions, QueryHookOptions<Board> {}

/**
 * The board-level state of `usePipelineBoard`. It changes only when the board's status, error,
 * pipeline, set of columns or last failed action changes, never because a card changed: cards and
 * columns are read below with `useBoardColumn`, `useBoardDealIds` and `useBoardCard`.
 */
export interface PipelineBoard {
  readonly status: ObserverSnapshot<BoardView>['status'];
  /** Why loading the board failed (`status: 'error'`). */
  readonly error: CrmError | Error | undefined;
  /** The pipeline with its stages (their order is the column order). */
  readonly pipeline: Pipeline | undefined;
  /** The shown stages' keys in stage order; the same array while the set of columns is unchanged. */
  readonly columnKeys: readonly string[];
  /** The last failed action (rolled back), e.g. a `RULE_VIOLATION` or `CONFLICT`; cleared by the next success. */
  readonly lastError: BoardView['lastError'];
  /**
   * The core observer behind the board: stable for the board's lifetime. Pass it (not this object)
   * to memoised children and to `useBoardColumn` / `useBoardDealIds` / `useBoardCard`.
   */
  readonly observer: BoardObserver;
  /**
   * The productive next step (`crm.deals.advance`): the card moves to the next open stage at once,
   * rolled back with `lastError` when the funnel refuses (entry/exit rules, strict next step).
   */
  advance(dealId: string): Promise<BoardActionResult>;
  /** Moves a card to another stage: shown at once, rolled back with `lastError` when refused. */
  move(dealId: string, toStage: string): Promise<BoardActionResult>;
  /** Postpones the card's next step to `until` (ISO timestamp), with an optional reason. */
  postpone(dealId: string, until: string, reason?: string): Promise<BoardActionResult>;
  /** Loses the deal with a reason key from the pipeline's lost reasons: the card leaves the board. */
  lose(dealId: string, reason: string, comment?: string): Promise<BoardActionResult>;
  /** Wins the deal: the card leaves the open columns. */
  win(dealId: string): Promise<BoardActionResult>;
  /** Fetches the board again now. */
  refetch(): Promise<void>;
}

const NO_KEYS: readonly string[] = Object.freeze([]);
const selectStatus = (s: ObserverSnapshot<BoardView>) => s.status;
const selectError = (s: ObserverSnapshot<BoardView>) => s.error;
const selectPipeline = (s: ObserverSnapshot<BoardView>) => s.data?.pipeline;
const selectLastError = (s: ObserverSnapshot<BoardView>) => s.data?.lastError;
const selectColumnKeys = (s: ObserverSnapshot<BoardView>): readonly string[] => s.data?.columns.map((c) => c.stage.key) ?? NO_KEYS;

/**
 * A pipeline's kanban board: columns in stage order, each with a page of cards, the count and the
 * total and weighted total per currency, plus `advance` / `move` / `postpone` / `lose` / `win` actions that update
 * the board at once and roll back on `RULE_VIOLATION`, `CONFLICT` or any failure, exposing the error
 * in `lastError`.
 *
 * The board re-renders only for board-level changes. Read columns and cards in memoised children
 * with `useBoardColumn`, `useBoardDealIds` and `useBoardCard`: changing one deal then re-renders its
 * card and its column's header only.
 *
 * @param pipelineId The pipeline to show.
 * @param options `crm.deals.board` options (`limitPerStage`, `where`, `orderBy`, `includeClosed`, `stages`) and `initialData`.
 * @returns The board-level state, the observer for children and the actions.
 * @example
 * function Board({ pipelineId }: { pipelineId: string }) {
 *   const board = usePipelineBoard(pipelineId, { limitPerStage: 100 });
 *   if (board.status === 'loading') return <p>Loading…</p>;
 *   if (board.status === 'error') return <p role="alert">{board.error?.message}</p>;
 *   return (
 *     <div className="board">
 *       {board.lastError && <p role="alert">{board.lastError.error.message}</p>}
 *       {board.columnKeys.map((key) => <Column key={key} board={board.observer} stageKey={key} />)}
 *     </div>
 *   );
 * }
 */
export function usePipelineBoard(pipelineId: string, options: PipelineBoardOptions = {}): PipelineBoard {
  const { initialData, ...boardOptions } = options;
  const observer = useObserverInstance((crm) => crm.observe.board(pipelineId, boardOptions, initialData));
  useEffect(() => observer.setTarget(pipelineId, boardOptions));

  const status = useObserverSelector(observer, selectStatus);
  const error = useObserverSelector(observer, selectError);
  const pipeline = useObserverSelector(observer, selectPipeline);
  const lastError = useObserverSelector(observer, selectLastError);
  const columnKeys = useObserverSelector(observer, selectColumnKeys, sameKeys);

  const actions = useMemo(
    () => ({
      advance: (dealId: string) => observer.advance(dealId),
      move: (dealId: string, toStage: string) => observer.move(dealId, toStage),
      postpone: (dealId: string, until: string, reason?: string) => observer.postpone(dealId, until, reason),
      lose: (dealId: string, reason: string, comment?: string) => observer.lose(dealId, reason, comment),
      win: (dealId: string) => observer.win(dealId),
      refetch: () => observer.refetch(),
    }),
    [observer],
  );
  return useMemo(() => ({ status, error, pipeline, columnKeys, lastError, observer, ...actions }), [status, error, pipeline, columnKeys, lastError, observer, actions]);
}
