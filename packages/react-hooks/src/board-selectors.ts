import type { BoardColumn, CrmError, Deal } from '@crmkit/core';
import type { BoardObserver, BoardView, ObserverSnapshot } from '@crmkit/core/observe';
import { useCallback } from 'react';
import { sameKeys } from './same-keys.js';
import { useObserverSelector } from './use-observer-selector.js';

/** One card of a board, as `useBoardCard` returns it. */
export interface BoardCard {
  /** The deal as the board shows it (optimistically moved while an action is in flight). */
  readonly deal: Deal;
  /** The deal's column. */
  readonly stageKey: string;
  /** An action on this deal is in flight. */
  readonly pending: boolean;
  /** The last failed action was on this deal: its error (rolled back). */
  readonly error: CrmError | Error | undefined;
}

const NO_IDS: readonly string[] = Object.freeze([]);

/** Deal id → deal, built once per board view (a view is immutable). */
const indexes = new WeakMap<BoardView, Map<string, Deal>>();
function dealIndex(view: BoardView): Map<string, Deal> {
  let index = indexes.get(view);
  if (!index) {
    index = new Map();
    for (const column of view.columns) for (const deal of column.deals) index.set(deal.id, deal);
    indexes.set(view, index);
  }
  return index;
}

const sameCard = (a: BoardCard | undefined, b: BoardCard | undefined): boolean =>
  a === b || (!!a && !!b && a.deal === b.deal && a.stageKey === b.stageKey && a.pending === b.pending && a.error === b.error);

/**
 * Subscribes to any part of a board: re-renders only when the selected value changes (`isEqual`,
 * default `Object.is`). Keep `select` stable (`useCallback`).
 *
 * @param board `usePipelineBoard(…).observer`.
 * @param select Picks the value from the board's snapshot.
 * @param isEqual When the new value equals the previous one, the previous one is kept.
 * @returns The selected value.
 * @example
 * const moving = useBoardSelector(board, useCallback((s) => s.data?.pending.length ?? 0, []));
 */
export function useBoardSelector<S>(board: BoardObserver, select: (snapshot: ObserverSnapshot<BoardView>) => S, isEqual?: (a: S, b: S) => boolean): S {
  return useObserverSelector(board, select, isEqual);
}

/**
 * One column of a board: its stage, card page, `count` and `totals` (amount and weighted amount per
 * currency). The same object until something in the column changes.
 *
 * @param board `usePipelineBoard(…).observer`.
 * @param stageKey The column's stage key.
 * @returns The column, or `undefined` while loading or when the stage is not shown.
 * @example
 * const ColumnHeader = memo(function ColumnHeader({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
 *   const column = useBoardColumn(board, stageKey);
 *   return <h3>{column?.stage.name} · {column?.count}</h3>;
 * });
 */
export function useBoardColumn(board: BoardObserver, stageKey: string): BoardColumn | undefined {
  const select = useCallback((s: ObserverSnapshot<BoardView>) => s.data?.columns.find((c) => c.stage.key === stageKey), [stageKey]);
  return useObserverSelector(board, select);
}

/**
 * The ids of a column's cards in order: the same array while the column holds the same cards in
 * the same order, so the list re-renders only when cards arrive, leave or reorder.
 *
 * @param board `usePipelineBoard(…).observer`.
 * @param stageKey The column's stage key.
 * @returns The deal ids.
 * @example
 * const ids = useBoardDealIds(board, stageKey);
 * return <ol>{ids.map((id) => <Card key={id} board={board} dealId={id} />)}</ol>;
 */
export function useBoardDealIds(board: BoardObserver, stageKey: string): readonly string[] {
  const select = useCallback(
    (s: ObserverSnapshot<BoardView>) => s.data?.columns.find((c) => c.stage.key === stageKey)?.deals.map((d) => d.id) ?? NO_IDS,
    [stageKey],
  );
  return useObserverSelector(board, select, sameKeys);
}

/**
 * One card of a board: the deal, its column, whether an action on it is in flight, and the error of
 * its last failed action. The same object until one of those changes.
 *
 * @param board `usePipelineBoard(…).observer`.
 * @param dealId The deal's id.
 * @returns The card, or `undefined` when the deal is not on the board.
 * @example
 * const Card = memo(function Card({ board, dealId }: { board: BoardObserver; dealId: string }) {
 *   const card = useBoardCard(board, dealId);
 *   if (!card) return null;
 *   return <article aria-busy={card.pending}>{card.deal.title}</article>;
 * });
 */
export function useBoardCard(board: BoardObserver, dealId: string): BoardCard | undefined {
  const select = useCallback(
    (s: ObserverSnapshot<BoardView>): BoardCard | undefined => {
      const view = s.data;
      const deal = view && dealIndex(view).get(dealId);
      if (!view || !deal) return undefined;
      const error = view.lastError?.dealId === dealId ? view.lastError.error : undefined;
      return { deal, stageKey: deal.stageKey, pending: view.pending.includes(dealId), error };
    },
    [dealId],
  );
  return useObserverSelector(board, select, sameCard);
}
