import type { BoardObserver } from '@crmkit/core/observe';
import { render, screen } from '@testing-library/react';
import { memo, StrictMode } from 'react';
import { describe, expect, it } from 'vitest';
import { CrmProvider, useAgenda, useBoardCard, useBoardColumn, useDeal, useDeals, usePipelineBoard, useTimeline } from '@crmkit/react-hooks';
import { salesCrm, settled } from './helpers.js';

const Card = memo(function Card({ board, dealId }: { board: BoardObserver; dealId: string }) {
  const card = useBoardCard(board, dealId);
  return <li>{card?.deal.title}</li>;
});
const Column = memo(function Column({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
  const column = useBoardColumn(board, stageKey);
  return (
    <section>
      <h3>{column?.stage.name} {column?.count}</h3>
      <ul>{column?.deals.map((d) => <Card key={d.id} board={board} dealId={d.id} />)}</ul>
    </section>
  );
});

function Screen({ pipelineId, dealId }: { pipelineId: string; dealId: string }) {
  const board = usePipelineBoard(pipelineId);
  const deal = useDeal(dealId);
  const deals = useDeals({ limit: 10 });
  const agenda = useAgenda('tester');
  const timeline = useTimeline({ type: 'deal', id: dealId });
  return (
    <main>
      <p>deal: {deal.data?.title}</p>
      <p>deals: {deals.data?.items.length}</p>
      <p>agenda: {agenda.data?.upcoming.length}</p>
      <p>events: {timeline.data?.items.length}</p>
      {board.columnKeys.map((key) => <Column key={key} board={board.observer} stageKey={key} />)}
    </main>
  );
}

describe('StrictMode', () => {
  it('double rendering and double effects leave one storage subscription per observer, and none after unmount', async () => {
    const { crm, storage, pipeline } = await salesCrm();
    const deal = await crm.deals.create({ title: 'Strict' });
    const baseline = storage.listeners(); // the crm's own cache watcher
    const view = render(
      <StrictMode>
        <CrmProvider crm={crm}>
          <Screen pipelineId={pipeline.id} dealId={deal.id} />
        </CrmProvider>
      </StrictMode>,
    );
    await settled(() => undefined);
    expect(screen.getByText('deal: Strict')).toBeTruthy();
    expect(storage.listeners()).toBe(baseline + 5); // board, deal, deals, agenda, timeline: one each

    await settled(() => crm.deals.update(deal.id, { title: 'Still strict' }));
    await settled(() => crm.tasks.create({ subject: 'Call', dueAt: '2026-01-07T10:00:00Z', dealId: deal.id }));
    expect(screen.getByText('deal: Still strict')).toBeTruthy();
    expect(screen.getByText('agenda: 1')).toBeTruthy();
    expect(screen.getByText('events: 3')).toBeTruthy();
    expect(screen.getByText(/New 1/)).toBeTruthy();
    expect(storage.listeners()).toBe(baseline + 5);

    view.unmount();
    await settled(() => undefined);
    expect(storage.listeners()).toBe(baseline);
  });

  it('a new crm in the provider re-creates the observers and releases the old ones', async () => {
    const first = await salesCrm();
    const second = await salesCrm();
    const a = await first.crm.deals.create({ id: 'deal_same', title: 'From first' });
    await second.crm.deals.create({ id: a.id, title: 'From second' });
    function Title() {
      return <p>{useDeal(a.id).data?.title}</p>;
    }
    const ui = (crm: typeof first.crm) => (
      <StrictMode>
        <CrmProvider crm={crm}>
          <Title />
        </CrmProvider>
      </StrictMode>
    );
    const base1 = first.storage.listeners();
    const base2 = second.storage.listeners();
    const view = render(ui(first.crm));
    await settled(() => undefined);
    expect(screen.getByText('From first')).toBeTruthy();
    view.rerender(ui(second.crm));
    await settled(() => undefined);
    expect(screen.getByText('From second')).toBeTruthy();
    expect(first.storage.listeners()).toBe(base1);
    expect(second.storage.listeners()).toBe(base2 + 1);
    view.unmount();
    expect(second.storage.listeners()).toBe(base2);
  });
});
