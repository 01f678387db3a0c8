import { createCrm, createMemoryStorage, formatMoney } from '@crmkit/core';
import { observers, type BoardObserver, type ObservedCrm } from '@crmkit/core/observe';
import { CrmProvider, useBoardCard, useBoardColumn, useBoardDealIds, usePipelineBoard } from '@crmkit/react-hooks';
import { memo } from 'react';
import { createRoot } from 'react-dom/client';

// A card subscribes to its own deal: changing another deal never re-renders it.
const Card = memo(function Card({ board, dealId }: { board: BoardObserver; dealId: string }) {
  const card = useBoardCard(board, dealId);
  if (!card) return null;
  return (
    <li aria-busy={card.pending}>
      {card.deal.title} · {formatMoney(card.deal.value)}
      <button onClick={() => void board.move(dealId, 'proposal')}>To proposal</button>
      {card.error && <em>{card.error.message}</em>}
    </li>
  );
});

// A column re-renders when its count, totals or cards change, not when other columns do.
const Column = memo(function Column({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
  const column = useBoardColumn(board, stageKey);
  const ids = useBoardDealIds(board, stageKey);
  return (
    <section>
      <h2>
        {column?.stage.name} ({column?.count}) {column?.totals.map((t) => `${formatMoney(t)}, weighted ${formatMoney({ amount: t.weighted, currency: t.currency })}`).join(' · ')}
      </h2>
      <ul>{ids.map((id) => <Card key={id} board={board} dealId={id} />)}</ul>
    </section>
  );
});

// The board re-renders only for board-level changes: loading, errors, the set of columns.
export function Board({ pipelineId }: { pipelineId: string }) {
  const board = usePipelineBoard(pipelineId);
  if (board.status === 'loading') return <p>Loading…</p>;
  if (board.status === 'error') return <p role="alert">{board.error?.message}</p>;
  return (
    <main>
      {board.lastError && <p role="alert">{board.lastError.error.message}</p>}
      {board.columnKeys.map((key) => <Column key={key} board={board.observer} stageKey={key} />)}
    </main>
  );
}

export async function start(element: HTMLElement): Promise<ObservedCrm> {
  const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'anna' }, features: [observers()] });
  const pipeline = await crm.pipelines.create({
    name: 'Sales',
    stages: [
      { key: 'new', name: 'New', probability: 10 },
      { key: 'proposal', name: 'Proposal', probability: 60, entryRules: [{ type: 'hasContact', message: 'Needs a contact' }] },
    ],
  });
  const ada = await crm.contacts.create({ name: 'Ada Lovelace' });
  await crm.deals.create({ title: 'Chairs', contactId: ada.id, value: { amount: 500_00, currency: 'EUR' } });
  await crm.deals.create({ title: 'Desks', value: { amount: 900_00, currency: 'EUR' } });
  createRoot(element).render(
    <CrmProvider crm={crm}>
      <Board pipelineId={pipeline.id} />
    </CrmProvider>,
  );
  return crm;
}
