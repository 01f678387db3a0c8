import type { PipelineBoard } from '@crmkit/react-hooks';
import { BoardColumn } from './board-column.js';

interface BoardViewProps {
  readonly board: PipelineBoard;
  readonly onSelect: (dealId: string) => void;
}

/** Columns in stage order, plus the banner of the last refused action (rolled back by the board). */
export function BoardView({ board, onSelect }: BoardViewProps) {
  if (board.status === 'loading') return <p className="muted">Loading the board…</p>;
  if (board.status === 'error' || !board.pipeline) {
    return (
      <p className="banner error" role="alert">
        The board could not be loaded: {board.error?.message}
      </p>
    );
  }
  const { lastError } = board;
  return (
    <>
      {lastError && (
        <p className="banner error" role="alert" data-code={'code' in lastError.error ? String(lastError.error.code) : undefined}>
          Could not {lastError.action} the deal — {lastError.error.message}
        </p>
      )}
      <div className="board">
        {board.columnKeys.map((key) => (
          <BoardColumn key={key} board={board.observer} pipeline={board.pipeline!} stageKey={key} onSelect={onSelect} />
        ))}
      </div>
    </>
  );
}
