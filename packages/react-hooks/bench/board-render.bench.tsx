/**
 * `pnpm bench` (not a test): mounts a pipeline board with 1,000 cards (React production profiling
 * build, jsdom), updates one deal at a time through the CRM and measures, per update, with React's
 * `<Profiler>` and render counters:
 *   - react_ms: from the board observer's notification to the end of React's commit (selectors,
 *     render, DOM commit) — the UI cost of one change;
 *   - actual_ms: the Profiler's `actualDuration` of the commit (render time of the updated components);
 *   - e2e_ms: from `crm.deals.update(…)` to the commit (includes the storage write and the board refetch);
 *   - components re-rendered and commits per update.
 * Also prints the hooks package's min+gzip size (react and @crmkit/core external).
 * Options: --cards N (1000), --updates U (30), --dev (React development build), --json FILE.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BoardObserver } from '@crmkit/core/observe';
import { imports } from '@crmkit/core/imports';
import type * as ReactDomClient from 'react-dom/client';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const cards = Number(option('cards') ?? 1000);
const updates = Number(option('updates') ?? 30);
const json = option('json');
const mode = process.env.NODE_ENV === 'production' ? 'production (profiling build)' : 'development';

// A DOM for react-dom before React loads.
const { JSDOM } = await import('jsdom');
const dom = new JSDOM('<!doctype html><div id="root"></div>', { pretendToBeVisual: true });
Object.assign(globalThis, { window: dom.window, document: dom.window.document, HTMLElement: dom.window.HTMLElement, Node: dom.window.Node });
Object.defineProperty(globalThis, 'navigator', { value: dom.window.navigator, configurable: true });

const React = await import('react');
// react-dom's profiling build keeps <Profiler> timings in production; it has the client API (no typings of its own).
const profilingBuild = 'react-dom/profiling';
const { createRoot } = (await import(profilingBuild)) as typeof ReactDomClient;
const { createCrm, createMemoryStorage, silentLogger } = await import('@crmkit/core');
const { observers } = await import('@crmkit/core/observe');
const hooks = await import('@crmkit/react-hooks');
const { memo, Profiler } = React;
const { CrmProvider, usePipelineBoard, useBoardColumn, useBoardDealIds, useBoardCard } = hooks;

/** min+gzip of the hooks entry, as an app bundler would ship it. */
async function size(): Promise<{ min: number; gzip: number }> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    write: false,
    external: ['react', 'react/*', '@crmkit/core', '@crmkit/core/*'],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

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

// Data: 5 open stages, `cards` deals spread evenly.
const STAGES = 5;
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

const root = createRoot(document.getElementById('root')!);
const mountStart = performance.now();
await new Promise<void>((resolve) => {
  onCommit = () => {
    if (document.querySelectorAll('li.card').length === cards) resolve();
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
const mounted = document.querySelectorAll('li.card').length;

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

interface Sample {
  react_ms: number;
  actual_ms: number;
  e2e_ms: number;
  components: number;
  commits: number;
  byComponent: Record<string, number>;
}
const samples: Sample[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WARMUP = 5;
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

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const stats = (xs: number[]) => {
  const s = sorted(xs);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1]! };
};
const react = stats(samples.map((s) => s.react_ms));
const actual = stats(samples.map((s) => s.actual_ms));
const e2e = stats(samples.map((s) => s.e2e_ms));
const components = Math.max(...samples.map((s) => s.components));
const commitsPerUpdate = Math.max(...samples.map((s) => s.commits));
const byComponent = samples[0]!.byComponent;
const bytes = await size();

const ms = (x: number) => x.toFixed(2).padStart(8);
console.log(`\n@crmkit/react-hooks board benchmark — React ${React.version}, ${mode}, jsdom, Node ${process.version}`);
console.log(`${mounted} cards mounted in ${STAGES} columns (first render ${mountMs.toFixed(0)} ms); ${samples.length} single-deal updates after ${WARMUP} warm-up\n`);
console.log(['per update'.padEnd(52), 'median'.padStart(8), 'p95'.padStart(8), 'max'.padStart(8)].join(' '));
console.log(['notify → commit done (selectors + render + DOM), ms'.padEnd(52), ms(react.median), ms(react.p95), ms(react.max)].join(' '));
console.log(['Profiler actualDuration, ms'.padEnd(52), ms(actual.median), ms(actual.p95), ms(actual.max)].join(' '));
console.log(['crm.deals.update → commit (write + refetch + React), ms'.padEnd(52), ms(e2e.median), ms(e2e.p95), ms(e2e.max)].join(' '));
console.log(`\ncomponents re-rendered per update: at most ${components} (${Object.entries(byComponent).map(([k, v]) => `${k} ×${v}`).join(', ')}); commits per update: ${commitsPerUpdate}`);
console.log(`budgets: commit < 16 ms → ${react.max < 16 ? 'met' : 'MISSED'} (max ${react.max.toFixed(2)} ms); ≤ 3 components → ${components <= 3 ? 'met' : 'MISSED'}`);
console.log(`size of @crmkit/react-hooks (react and @crmkit/core external): ${bytes.min} B min, ${bytes.gzip} B min+gzip (budget 4096 B → ${bytes.gzip <= 4096 ? 'met' : 'MISSED'})\n`);

if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(
    json,
    JSON.stringify(
      {
        react: React.version,
        mode,
        cards: mounted,
        updates: samples.length,
        notify_to_commit_ms: react,
        profiler_actual_ms: actual,
        update_to_commit_ms: e2e,
        max_components_per_update: components,
        max_commits_per_update: commitsPerUpdate,
        size_min_bytes: bytes.min,
        size_min_gzip_bytes: bytes.gzip,
        samples,
      },
      null,
      2,
    ),
  );
  console.log(`wrote ${json}`);
}
