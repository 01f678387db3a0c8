/**
 * `pnpm bench` (not a test): mounts a pipeline board with 1,000 cards (React production profiling
 * build, jsdom), updates one deal at a time through the CRM and measures, per update, with React's
 * `<Profiler>` and render counters:
 *   - react_ms: from the board observer's notification to the end of React's commit (selectors,
 *     render, DOM commit) — the UI cost of one change;
 *   - actual_ms: the Profiler's `actualDuration` of the commit (render time of the updated components);
 *   - e2e_ms: from `crm.deals.update(…)` to the commit (includes the storage write and the board refetch);
 *   - components re-rendered and commits per update.
 * Also prints the hooks package's min+gzip size (react and @crmkit/core external). The benchmark itself is
 * board-bench.tsx, shared with the real-Chromium run (chromium/run-chromium-bench.ts).
 * Options: --cards N (1000), --updates U (30), --dev (React development build), --json FILE.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
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
const { runBoardBench } = await import('./board-bench.js');
const { formatBoardBench } = await import('./bench-report.js');

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

const result = await runBoardBench({ cards, updates, createRoot, container: document.getElementById('root')! });
const bytes = await size();

const report = formatBoardBench(result, `@crmkit/react-hooks board benchmark — React ${React.version}, ${mode}, jsdom, Node ${process.version}`);
console.log(report.text);
console.log(`size of @crmkit/react-hooks (react and @crmkit/core external): ${bytes.min} B min, ${bytes.gzip} B min+gzip (budget 4096 B → ${bytes.gzip <= 4096 ? 'met' : 'MISSED'})\n`);
console.log('the same board in real Chromium: pnpm --filter @crmkit/react-hooks bench:chromium\n');

if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(
    json,
    JSON.stringify(
      {
        react: React.version,
        mode,
        cards: result.mounted,
        updates: result.samples.length,
        notify_to_commit_ms: result.react,
        profiler_actual_ms: result.actual,
        update_to_commit_ms: result.e2e,
        max_components_per_update: result.components,
        max_commits_per_update: result.commitsPerUpdate,
        size_min_bytes: bytes.min,
        size_min_gzip_bytes: bytes.gzip,
        samples: result.samples,
      },
      null,
      2,
    ),
  );
  console.log(`wrote ${json}`);
}
