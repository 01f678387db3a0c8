import type { Board, CrmEvent, Deal, Page } from '@crmkit/core';
import type { Agenda } from '@crmkit/core/tasks';
import type { BoardObserver } from '@crmkit/core/observe';
import { memo } from 'react';
import { useAgenda, useBoardCard, useBoardColumn, useBoardDealIds, useDeal, useDeals, usePipelineBoard, useTimeline } from '@crmkit/react-hooks';
import { salesCrm } from './helpers.js';

/** What a server loads before rendering (here from another CRM, so the rendering CRM cannot have fetched it). */
export interface ServerData {
  readonly pipelineId: string;
  readonly deal: Deal;
  readonly deals: Page<Deal>;
  readonly board: Board;
  readonly agenda: Agenda;
  readonly timeline: Page<CrmEvent>;
}

export async function loadServerData(): Promise<ServerData & { crm: Awaited<ReturnType<typeof salesCrm>>['crm'] }> {
  const { crm, pipeline } = await salesCrm();
  const contact = await crm.contacts.create({ name: 'Ada' });
  const deal = await crm.deals.create({ title: 'Server deal', contactId: contact.id, value: { amount: 120_00, currency: 'EUR' } });
  await crm.deals.create({ title: 'Second deal', stageKey: 'proposal', value: { amount: 80_00, currency: 'EUR' } });
  await crm.tasks.create({ subject: 'Server task', dueAt: '2026-01-07T10:00:00Z', dealId: deal.id });
  return {
    crm,
    pipelineId: pipeline.id,
    deal: await crm.deals.get(deal.id),
    deals: await crm.deals.list({ orderBy: [{ field: 'title' }] }),
    board: await crm.deals.board(pipeline.id),
    agenda: await crm.tasks.agenda({ ownerId: 'tester' }),
    timeline: await crm.timeline({ type: 'deal', id: deal.id }),
  };
}

const Card = memo(function Card({ board, dealId }: { board: BoardObserver; dealId: string }) {
  const card = useBoardCard(board, dealId);
  return <li>{card?.deal.title}</li>;
});
const Column = memo(function Column({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
  const column = useBoardColumn(board, stageKey);
  const ids = useBoardDealIds(board, stageKey);
  return (
    <section>
      <h3>{column?.stage.name} ({column?.count}) {column?.totals.map((t) => `${t.amount} ${t.currency}`).join(' ')}</h3>
      <ul>{ids.map((id) => <Card key={id} board={board} dealId={id} />)}</ul>
    </section>
  );
});

/** A page using every data hook, fed with `initialData` when given. */
export function Page({ data, withInitialData = true }: { data: ServerData; withInitialData?: boolean }) {
  const pick = <T,>(value: T) => (withInitialData ? { initialData: value } : {});
  const deal = useDeal(data.deal.id, pick(data.deal));
  const deals = useDeals({ orderBy: [{ field: 'title' }] }, pick(data.deals));
  const board = usePipelineBoard(data.pipelineId, pick(data.board));
  const agenda = useAgenda('tester', pick(data.agenda));
  const timeline = useTimeline({ type: 'deal', id: data.deal.id }, pick(data.timeline));
  return (
    <main>
      <h1>{deal.status === 'success' ? deal.data?.title : deal.status}</h1>
      <p>deals: {deals.data?.items.map((d) => d.title).join(', ') ?? deals.status}</p>
      <p>agenda: {agenda.data?.upcoming.map((t) => t.subject).join(', ') ?? agenda.status}</p>
      <p>timeline: {timeline.data?.items.map((e) => e.type).join(', ') ?? timeline.status}</p>
      <div>board: {board.status}</div>
      {board.columnKeys.map((key) => <Column key={key} board={board.observer} stageKey={key} />)}
    </main>
  );
}
