/**
 * The board benchmark itself, shared by the jsdom run (`run-bench.ts`) and the Chromium run
 * (`chromium/run-chromium-bench.ts`): mounts a pipeline board with `cards` cards, updates one deal at a
 * time through the CRM and measures each update with React's `<Profiler>` and render counters.
 * React must be loaded with its DOM available (jsdom globals set, or a browser page) before this module.
 */
import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { imports } from '@crmkit/core/imports';
import { observers, type BoardObserver } from '@crmkit/core/observe';
import { CrmProvider, useBoardCard, useBoardColumn, useBoardDealIds, usePipelineBoard } from '@crmkit/react-hooks';
import { memo, Profiler } from 'react';
import type { Root } from 'react-dom/client';

import type { BoardBenchResult, Sample, Stats } from './bench-report.js';

export type { BoardBenchResult } from './bench-report.js';

const renders = new Map<string, number>();
const count = (name: string) => renders.set(name, (renders.get(name) ?? 0) + 1);

const Card = memo(function Card({ board, dealId }: { board: BoardObserver; dealId: string }) {
  count('Card');
  const card = useBoardCard(board, dealId);
  if (!card) return null;
  return (
    <li className="card" aria-busy={card.pending}>
      <strong>{card.deal.title}</strong> <span>{(card.deal.value.amount / 100).toFixed(2)} {card.deal.value.currency}</span>
    </li>
  );
});
const ColumnHeader = memo(function ColumnHeader({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
  count('ColumnHeader');
  const column = useBoardColumn(board, stageKey);
  return (
    <h2>
      {column?.stage.name} · {column?.count} · {column?.totals.map((t) => `${t.amount / 100} (${t.weighted / 100}) ${t.currency}`).join(', ')}
    </h2>
  );
});
const ColumnCards = memo(function ColumnCards({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
  count('ColumnCards');
  const ids = useBoardDealIds(board, stageKey);
  return <ul>{ids.map((id) => <Card key={id} board={board} dealId={id} />)}</ul>;
});
const Column = memo(function Column({ board, stageKey }: { board: BoardObserver; stageKey: string }) {
  count('Column');
  return (
    <section>
      <ColumnHeader board={board} stageKey={stageKey} />
      <ColumnCards board={board} stageKey={stageKey} />
    </section>
  );
});
let boardObserver: BoardObserver | undefined;
function Board({ pipelineId, limit }: { pipelineId: string; limit: number }) {
  count('Board');
  const board = usePipelineBoard(pipelineId, { limitPerStage: limit });
  boardObserver = board.observer;
  if (board.status !== 'success') return <p>{board.status}</p>;
  return <main>{board.columnKeys.map((key) => <Column key={key} board={board.observer} stageKey={key} />)}</main>;
}

const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1]! };
};

/**
 * Runs the benchmark in the current DOM.
 * @param options - `cards` (1,000), `updates` measured after 5 warm-up updates, and `createRoot` from the
 *   React DOM build to measure (the profiling build keeps `<Profiler>` timings in production)
 * @returns the samples and their statistics
 * @example const result = await runBoardBench({ cards: 1000, updates: 30, createRoot, container });
 */
export async function runBoardBench(options: { cards: number; updates: number; createRoot: (container: Element) => Root; container: Element }): Promise<BoardBenchResult> {
  const { cards, updates, container } = options;
  const STAGES = 5;
  const WARMUP = 5;
  const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 'bench', actor: { userId: 'u1' }, logger: silentLogger, random: { seed: 7 }, features: [observers(), imports()] });
  const pipeline = await crm.pipelines.create({
    name: 'Bench',
    stages: [
      ...Array.from({ length: STAGES }, (_, i) => ({ key: `s${i}`, name: `Stage ${i}`, probability: 10 + i * 15 })),
      { key: 'won', name: 'Won', kind: 'won' as const },
      { key: 'lost', name: 'Lost', kind: 'lost' as const },
    ],
  });
  const deals = await crm.imports.deals(
    Array.from({ length: cards }, (_, i) => ({ title: `Deal ${i}`, stageKey: `s${i % STAGES}`, value: { amount: 1000_00 + i, currency: 'EUR' } })),
  );
  const perStage = Math.ceil(cards / STAGES);

  let onCommit: (() => void) | undefined;
  let commits: { actual: number; at: number }[] = [];
  const onRender = (_id: string, _phase: string, actualDuration: number) => {
    commits.push({ actual: actualDuration, at: performance.now() });
    onCommit?.();
  };

  const root = options.createRoot(container);
  const mountStart = performance.now();
  await new Promise<void>((resolve) => {
    onCommit = () => {
      if (container.querySelectorAll('li.card').length === cards) resolve();
    };
    root.render(
      <Profiler id="board" onRender={onRender}>
        <CrmProvider crm={crm}>
          <Board pipelineId={pipeline.id} limit={perStage} />
        </CrmProvider>
      </Profiler>,
    );
  });
  const mountMs = performance.now() - mountStart;
  const mounted = container.querySelectorAll('li.card').length;

  // The moment the board observer hands new data to its listeners (React's selectors run inside).
  // `notify` is protected; the benchmark wraps it on this one instance to timestamp it.
  const observer = boardObserver! as unknown as { notify(): void; getSnapshot(): { data: unknown } };
  const notify = observer.notify.bind(observer);
  let notifiedAt = 0;
  let lastData = observer.getSnapshot().data;
  observer.notify = () => {
    const data = observer.getSnapshot().data;
    if (data !== lastData) {
      lastData = data;
      notifiedAt = performance.now();
    }
    notify();
  };

  const samples: Sample[] = [];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (let u = 0; u < updates + WARMUP; u++) {
    const deal = deals[(u * 397) % deals.length]!;
    renders.clear();
    commits = [];
    notifiedAt = 0;
    const committed = new Promise<void>((resolve) => (onCommit = resolve));
    const start = performance.now();
    await crm.deals.update(deal.id, { value: { amount: 2000_00 + u, currency: 'EUR' } });
    await committed;
    await sleep(20); // catch any further commit of this update
    onCommit = undefined;
    const last = commits[commits.length - 1]!;
    const sample: Sample = {
      react_ms: last.at - notifiedAt,
      actual_ms: commits.reduce((s, c) => s + c.actual, 0),
      e2e_ms: last.at - start,
      components: [...renders.values()].reduce((a, b) => a + b, 0),
      commits: commits.length,
      byComponent: Object.fromEntries(renders),
    };
    if (u >= WARMUP) samples.push(sample);
  }
  root.unmount();
  await crm.close();
  return {
    mounted,
    mountMs,
    stages: STAGES,
    warmup: WARMUP,
    samples,
    react: stats(samples.map((s) => s.react_ms)),
    actual: stats(samples.map((s) => s.actual_ms)),
    e2e: stats(samples.map((s) => s.e2e_ms)),
    components: Math.max(...samples.map((s) => s.components)),
    commitsPerUpdate: Math.max(...samples.map((s) => s.commits)),
    byComponent: samples[0]!.byComponent,
  };
}
