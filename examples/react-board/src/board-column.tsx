import type { Pipeline } from '@crmkit/core';
import type { BoardObserver } from '@crmkit/core/observe';
import { useBoardColumn, useBoardDealIds } from '@crmkit/react-hooks';
import { memo } from 'react';
import { DealCard } from './deal-card.js';
import { formatMoney } from './format.js';

interface ColumnProps {
  readonly board: BoardObserver;
  readonly pipeline: Pipeline;
  readonly stageKey: string;
  readonly onSelect: (dealId: string) => void;
}

/** Stage name, card count, total and weighted total per currency: re-renders when its column changes. */
const ColumnHeader = memo(function ColumnHeader({ board, stageKey }: Pick<ColumnProps, 'board' | 'stageKey'>) {
  const column = useBoardColumn(board, stageKey);
  if (!column) return null;
  return (
    <header className="column-header">
      <h2>
        {column.stage.name} <span className="count">{column.count}</span>
      </h2>
      <p className="totals">
        {column.totals.length === 0
          ? '—'
          : column.totals.map((t) => (
              <span key={t.currency}>
                {formatMoney({ amount: t.amount, currency: t.currency })} <small>weighted {formatMoney({ amount: t.weighted, currency: t.currency })}</small>
              </span>
            ))}
      </p>
    </header>
  );
});

/** The cards, by id: re-renders only when cards arrive, leave or reorder. */
const ColumnCards = memo(function ColumnCards({ board, pipeline, stageKey, onSelect }: ColumnProps) {
  const ids = useBoardDealIds(board, stageKey);
  return (
    <ol className="cards">
      {ids.map((id) => (
        <DealCard key={id} board={board} pipeline={pipeline} dealId={id} onSelect={onSelect} />
      ))}
    </ol>
  );
});

/** One kanban column. */
export const BoardColumn = memo(function BoardColumn(props: ColumnProps) {
  return (
    <section className="column" data-stage={props.stageKey} aria-label={`Stage ${props.stageKey}`}>
      <ColumnHeader board={props.board} stageKey={props.stageKey} />
      <ColumnCards {...props} />
    </section>
  );
});
