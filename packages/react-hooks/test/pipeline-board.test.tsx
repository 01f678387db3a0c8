import { isCrmError } from '@crmkit/core';
import type { BoardObserver } from '@crmkit/core/observe';
import { act, render, renderHook, screen } from '@testing-library/react';
import { memo } from 'react';
import { describe, expect, it } from 'vitest';
import { useBoardCard, useBoardColumn, useBoardDealIds, usePipelineBoard } from '@crmkit/react-hooks';
import { salesCrm, settled, wrapper } from './helpers.js';

async function boardCrm() {
  const setup = await salesCrm();
  const { crm } = setup;
  const ada = await crm.contacts.create({ name: 'Ada' });
  const withContact = await crm.deals.create({ title: 'With contact', contactId: ada.id, value: { amount: 100_00, currency: 'EUR' } });
  const bare = await crm.deals.create({ title: 'Bare', value: { amount: 50_00, currency: 'EUR' } });
  const usd = await crm.deals.create({ title: 'Dollars', value: { amount: 70_00, currency: 'USD' } });
  const late = await crm.deals.create({ title: 'Proposal', stageKey: 'proposal', contactId: ada.id, value: { amount: 200_00, currency: 'EUR' } });
  return { ...setup, ada, withContact, bare, usd, late };
}

/** Card titles per column, in order, with the column's count. */
function layout(board: BoardObserver) {
  return board.getSnapshot().data!.columns.map((c) => [c.stage.key, c.deals.map((d) => d.title), c.count]);
}

describe('usePipelineBoard', () => {
  it('shows columns in stage order with cards, count, totals and weighted totals per currency', async () => {
    const { crm, pipeline } = await boardCrm();
    const { result } = renderHook(() => usePipelineBoard(pipeline.id), { wrapper: wrapper(crm) });
    expect(result.current).toMatchObject({ status: 'loading', columnKeys: [], pipeline: undefined });
    await settled(() => undefined);
    expect(result.current.status).toBe('success');
    expect(result.current.columnKeys).toEqual(['new', 'qualified', 'proposal']);
    expect(result.current.pipeline?.name).toBe('Sales');
    const [fresh, qualified, proposal] = result.current.observer.getSnapshot().data!.columns;
    expect(fresh!.deals.map((d) => d.title)).toEqual(['With contact', 'Bare', 'Dollars']);
    expect(fresh!.count).toBe(3);
    expect([...fresh!.totals].sort((a, b) => a.currency.localeCompare(b.currency))).toEqual([
      { currency: 'EUR', amount: 150_00, weighted: 15_00 },
      { currency: 'USD', amount: 70_00, weighted: 7_00 },
    ]);
    expect(qualified).toMatchObject({ count: 0, totals: [] });
    expect(proposal).toMatchObject({ count: 1, totals: [{ currency: 'EUR', amount: 200_00, weighted: 140_00 }] });
  });

  it('move updates at once, then persists; the board state object is stable across card changes', async () => {
    const { crm, pipeline, withContact } = await boardCrm();
    const { result } = renderHook(() => usePipelineBoard(pipeline.id), { wrapper: wrapper(crm) });
    await settled(() => undefined);
    const state = result.current;
    let moving!: Promise<unknown>;
    act(() => {
      moving = result.current.move(withContact.id, 'qualified');
    });
    expect(layout(state.observer)).toEqual([
      ['new', ['Bare', 'Dollars'], 2],
      ['qualified', ['With contact'], 1],
      ['proposal', ['Proposal'], 1],
    ]);
    expect(state.observer.getSnapshot().data!.pending).toEqual([withContact.id]);
    expect(await settled(() => moving)).toEqual({ ok: true });
    expect((await crm.deals.get(withContact.id)).stageKey).toBe('qualified');
    expect(state.observer.getSnapshot().data!.pending).toEqual([]);
    expect(result.current).toBe(state); // no board-level change: the same object
  });

  it('advance moves a card to the next open stage at once and persists; a refused advance rolls back with lastError', async () => {
    const { crm, pipeline, withContact, bare } = await boardCrm();
    const { result } = renderHook(() => ({ board: usePipelineBoard(pipeline.id) }), { wrapper: wrapper(crm) });
    await settled(() => undefined);
    let advancing!: Promise<unknown>;
    act(() => {
      advancing = result.current.board.advance(withContact.id);
    });
    expect(layout(result.current.board.observer)[1]).toEqual(['qualified', ['With contact'], 1]); // optimistic
    expect(await settled(() => advancing)).toMatchObject({ ok: true });
    expect((await crm.deals.get(withContact.id)).stageKey).toBe('qualified');
    const refused = (await settled(() => result.current.board.advance(bare.id))) as { ok: boolean };
    expect(refused.ok).toBe(false);
    expect(result.current.board.lastError).toMatchObject({ dealId: bare.id, error: { code: 'RULE_VIOLATION' } });
    expect((await crm.deals.get(bare.id)).stageKey).toBe('new');
  });

  it('a move that breaks a stage rule rolls back and exposes the RULE_VIOLATION', async () => {
    const { crm, pipeline, bare } = await boardCrm();
    const { result } = renderHook(() => ({ board: usePipelineBoard(pipeline.id) }), { wrapper: wrapper(crm) });
    await settled(() => undefined);
    const before = layout(result.current.board.observer);
    let moving!: Promise<unknown>;
    act(() => {
      moving = result.current.board.move(bare.id, 'qualified');
    });
    expect(layout(result.current.board.observer)[1]).toEqual(['qualified', ['Bare'], 1]); // optimistic
    const outcome = (await settled(() => moving)) as { ok: false; error: Error };
    expect(outcome.ok).toBe(false);
    expect(isCrmError(outcome.error, 'RULE_VIOLATION')).toBe(true);
    expect(layout(result.current.board.observer)).toEqual(before);
    expect(result.current.board.lastError).toMatchObject({ dealId: bare.id, action: 'move', error: { code: 'RULE_VIOLATION' } });
    expect(result.current.board.lastError!.error.message).toContain('A qualified deal needs a contact');
    expect((await crm.deals.get(bare.id)).stageKey).toBe('new');
  });

  it('a move that meets a concurrent write rolls back with CONFLICT; the next success clears the error', async () => {
    const { crm, pipeline, storage, withContact } = await boardCrm();
    const { result } = renderHook(() => usePipelineBoard(pipeline.id), { wrapper: wrapper(crm) });
    await settled(() => undefined);
    const before = layout(result.current.observer);
    // Every read of the deal is one version behind, as if another process kept writing it: the move's
    // runs all lose their race (crmkit runs a raced operation again, a bounded number of times).
    storage.staleReads(withContact.id);
    const outcome = await settled(() => result.current.move(withContact.id, 'proposal'));
    storage.staleReads(undefined);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(layout(result.current.observer)).toEqual(before);
    expect(result.current.lastError).toMatchObject({ dealId: withContact.id, error: { code: 'CONFLICT' } });
    expect((await crm.deals.get(withContact.id)).stageKey).toBe('new');

    expect(await settled(() => result.current.move(withContact.id, 'proposal'))).toEqual({ ok: true });
    expect(result.current.lastError).toBeUndefined();
    const [, titles, n] = layout(result.current.observer)[2]!;
    expect([...(titles as string[])].sort()).toEqual(['Proposal', 'With contact']);
    expect(n).toBe(2);
  });

  it('postpone keeps the card in its column; lose with a reason and win take it off the open board', async () => {
    const { crm, pipeline, withContact, bare, late } = await boardCrm();
    const { result } = renderHook(() => usePipelineBoard(pipeline.id), { wrapper: wrapper(crm) });
    await settled(() => undefined);
    expect(await settled(() => result.current.postpone(bare.id, '2026-01-12T09:00:00Z', 'Customer on holiday'))).toEqual({ ok: true });
    expect((await crm.deals.get(bare.id)).postponeCount).toBe(1);
    expect(layout(result.current.observer)[0]).toEqual(['new', ['With contact', 'Bare', 'Dollars'], 3]);

    expect(await settled(() => result.current.lose(bare.id, 'price'))).toEqual({ ok: true });
    expect(await settled(() => result.current.win(late.id))).toEqual({ ok: true });
    expect(layout(result.current.observer)).toEqual([
      ['new', ['With contact', 'Dollars'], 2],
      ['qualified', [], 0],
      ['proposal', [], 0],
    ]);
    expect(await crm.deals.get(bare.id)).toMatchObject({ status: 'lost', lostReason: 'price' });
    expect((await crm.deals.get(late.id)).status).toBe('won');

    const missingReason = await settled(() => result.current.lose(withContact.id, 'not-a-reason'));
    expect(missingReason.ok).toBe(false);
    expect(layout(result.current.observer)[0]).toEqual(['new', ['With contact', 'Dollars'], 2]);
  });
});

describe('fine-grained rendering', () => {
  const renders = new Map<string, number>();
  const count = (name: string) => renders.set(name, (renders.get(name) ?? 0) + 1);
  const snapshot = () => Object.fromEntries([...renders].filter(([, n]) => n > 0));

  const Card = memo(function Card({ board, dealId }: { board: BoardObserver; dealId: string }) {
    count(`card:${dealId}`);
    const card = useBoardCard(board, dealId);
    return (
      <li aria-busy={card?.pending}>
        {card?.deal.title} {card?.deal.value.amount}
        <button aria-label={`advance ${dealId}`} onClick={() => void board.move(dealId, 'qualified')}>advance</button>
      </li>
    );
  });
  const Header = memo(function Header({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
    count(`header:${stageKey}`);
    const column = useBoardColumn(board, stageKey);
    return <h3>{column?.stage.name} {column?.count} {column?.totals.map((t) => `${t.amount}/${t.weighted} ${t.currency}`).join(', ')}</h3>;
  });
  const Cards = memo(function Cards({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
    count(`cards:${stageKey}`);
    const ids = useBoardDealIds(board, stageKey);
    return <ul>{ids.map((id) => <Card key={id} board={board} dealId={id} />)}</ul>;
  });
  const Column = memo(function Column({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
    count(`column:${stageKey}`);
    return <section><Header board={board} stageKey={stageKey} /><Cards board={board} stageKey={stageKey} /></section>;
  });
  function Board({ pipelineId }: { pipelineId: string }) {
    count('board');
    const board = usePipelineBoard(pipelineId);
    if (board.status !== 'success') return <p>{board.status}</p>;
    return (
      <main>
        {board.lastError && <p role="alert">{board.lastError.error.message}</p>}
        {board.columnKeys.map((key) => <Column key={key} board={board.observer} stageKey={key} />)}
      </main>
    );
  }

  async function mount() {
    const setup = await boardCrm();
    const extra = [];
    for (let i = 0; i < 20; i++) extra.push(await setup.crm.deals.create({ title: `Filler ${i}`, stageKey: i % 2 ? 'new' : 'proposal', contactId: setup.ada.id, value: { amount: 1000 + i, currency: 'EUR' } }));
    render(<Board pipelineId={setup.pipeline.id} />, { wrapper: wrapper(setup.crm) });
    await settled(() => undefined);
    expect(screen.getAllByRole('listitem')).toHaveLength(24);
    renders.clear();
    return setup;
  }

  it('changing one deal re-renders only its card and its column header', async () => {
    const { crm, bare } = await mount();
    await settled(() => crm.deals.update(bare.id, { value: { amount: 60_00, currency: 'EUR' } }));
    expect(snapshot()).toEqual({ [`card:${bare.id}`]: 1, 'header:new': 1 });
    const header = screen.getAllByRole('heading').find((h) => h.textContent!.startsWith('New'))!;
    expect(header.textContent).toBe(`New 13 ${10000 + 6000 + 10100}/${1000 + 600 + 1010} EUR, 7000/700 USD`); // fillers 1001…1019 (odd)
  });

  it('a title change that leaves totals alone still re-renders only the card and its header', async () => {
    const { crm, late } = await mount();
    await settled(() => crm.deals.update(late.id, { title: 'Renamed' }));
    expect(snapshot()).toEqual({ [`card:${late.id}`]: 1, 'header:proposal': 1 });
    expect(screen.getByText(/Renamed/)).toBeTruthy();
  });

  it('a move re-renders the two headers and card lists and the moved card, never the board or other cards', async () => {
    const { crm, withContact } = await mount();
    await settled(() => crm.deals.advance(withContact.id, { toStage: 'qualified' }));
    expect(Object.keys(snapshot()).sort()).toEqual([`card:${withContact.id}`, 'cards:new', 'cards:qualified', 'header:new', 'header:qualified'].sort());
  });

  it('a failed move from a card shows the violation at board level and leaves the card in place', async () => {
    const { crm, bare } = await mount();
    await settled(() => screen.getByRole('button', { name: `advance ${bare.id}` }).click());
    expect(screen.getByRole('alert').textContent).toContain('A qualified deal needs a contact');
    expect(screen.getByRole('button', { name: `advance ${bare.id}` }).closest('section')!.querySelector('h3')!.textContent).toMatch(/^New/);
    expect((await crm.deals.get(bare.id)).stageKey).toBe('new');
    const counts = snapshot();
    expect(counts.board).toBe(1); // lastError is board-level state
    expect(Object.keys(counts).filter((k) => k.startsWith('card:'))).toEqual([`card:${bare.id}`]);
    expect(Object.keys(counts).filter((k) => k.startsWith('column:'))).toEqual([]);
  });
});
