import { usePipelineBoard } from '@crmkit/react-hooks';
import { useCallback, useState } from 'react';
import { AgendaPanel } from './agenda-panel.js';
import { BoardView } from './board-view.js';
import { DealPanel } from './deal-panel.js';

/** The screen: the pipeline board, the selected deal's panel and the owner's agenda. */
export function App({ pipelineId, ownerId }: { pipelineId: string; ownerId: string }) {
  const board = usePipelineBoard(pipelineId, { limitPerStage: 100 });
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const close = useCallback(() => setSelected(undefined), []);
  return (
    <div className="app">
      <header className="topbar">
        <h1>{board.pipeline?.name ?? 'Pipeline'}</h1>
        <span className="muted">crmkit · React hooks · IndexedDB</span>
      </header>
      <main className="main">
        <BoardView board={board} onSelect={setSelected} />
      </main>
      <div className="side">
        {selected && <DealPanel key={selected} dealId={selected} pipeline={board.pipeline} onClose={close} />}
        <AgendaPanel ownerId={ownerId} onSelect={setSelected} />
      </div>
    </div>
  );
}
