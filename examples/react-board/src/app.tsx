import { usePipelineBoard } from '@crmkit/react-hooks';
import { useCallback, useState, type ReactNode } from 'react';
import { AgendaPanel } from './agenda-panel.js';
import { BoardView } from './board-view.js';
import { DealPanel, type DealPanelProps } from './deal-panel.js';

/**
 * The screen: the pipeline board, the selected deal's panel and the owner's agenda; `status` goes in the top
 * bar (field mode's sync status); `history` is what the deal panel lists (field mode: `activities`).
 */
export function App({ pipelineId, ownerId, subtitle = 'crmkit · React hooks · IndexedDB', status, history = 'timeline' }: { pipelineId: string; ownerId: string; subtitle?: string; status?: ReactNode; history?: DealPanelProps['history'] }) {
  const board = usePipelineBoard(pipelineId, { limitPerStage: 100 });
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const close = useCallback(() => setSelected(undefined), []);
  return (
    <div className="app">
      <header className="topbar">
        <h1>{board.pipeline?.name ?? 'Pipeline'}</h1>
        <span className="muted">{subtitle}</span>
        {status}
      </header>
      <main className="main">
        <BoardView board={board} onSelect={setSelected} />
      </main>
      <div className="side">
        {selected && <DealPanel key={selected} dealId={selected} pipeline={board.pipeline} onClose={close} history={history} />}
        <AgendaPanel ownerId={ownerId} onSelect={setSelected} />
      </div>
    </div>
  );
}
