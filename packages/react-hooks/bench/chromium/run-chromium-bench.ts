/**
 * `pnpm --filter @crmkit/react-hooks bench:chromium` (a benchmark, not a test): the board benchmark
 * (board-bench.tsx) in real headless Chromium — the Chromium of @crmkit/test-support (npm, CRMKIT_CHROMIUM
 * or the system's), React's production profiling build. One deal change with 1,000 cards mounted must
 * re-render at most 3 components and commit in under 16 ms (one frame at 60 Hz); the run prints the
 * figures with the budgets and exits 1 when one is missed.
 * Options: --cards N (1000), --updates U (30), --json FILE, --cpu-prof FILE (a V8 CPU profile of the page).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@crmkit/test-support/chromium';
import { build, type Plugin } from 'esbuild';
import { alias } from '../../../../vitest.shared.js';
import { formatBoardBench, type BoardBenchResult } from '../bench-report.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const cards = Number(option('cards') ?? 1000);
const updates = Number(option('updates') ?? 30);
const json = option('json');
const cpuProfile = option('cpu-prof');

const require = createRequire(import.meta.url);
const reactDomProfiling = require.resolve('react-dom/profiling');
const react = require('react/package.json') as { version: string };

/** Workspace packages from their sources (as the tests), react-dom/client from the profiling build. */
const resolve: Plugin = {
  name: 'bench-resolve',
  setup(b) {
    const map: Record<string, string> = { ...alias, 'react-dom/client': reactDomProfiling };
    b.onResolve({ filter: /^(@crmkit\/|react-dom\/client$)/ }, (a) => (map[a.path] ? { path: map[a.path] } : undefined));
  },
};

const bundle = await build({
  entryPoints: [fileURLToPath(new URL('./page.tsx', import.meta.url))],
  bundle: true,
  minify: !cpuProfile, // readable frames in a profile
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  write: false,
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [resolve],
  logLevel: 'silent',
});
const script = bundle.outputFiles[0]!.text;

const ORIGIN = 'http://localhost:4174';
const browser = await launchChromium();
const chromiumVersion = browser.version();
let result: BoardBenchResult;
try {
  const context = await browser.newContext();
  await context.route(`${ORIGIN}/**`, (route) => {
    const isScript = new URL(route.request().url()).pathname === '/bench.js';
    return route.fulfill({
      status: 200,
      contentType: isScript ? 'text/javascript' : 'text/html',
      body: isScript ? script : '<!doctype html><meta charset="utf-8"><title>board bench</title><div id="root"></div><script type="module" src="/bench.js"></script>',
    });
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => 'runBoardBench' in window, undefined, { timeout: 30_000 }).catch(() => {
    throw new Error(`the benchmark page did not load: ${errors.join('\n')}`);
  });
  const cdp = cpuProfile ? await context.newCDPSession(page) : undefined;
  if (cdp) await Promise.all([cdp.send('Profiler.enable'), cdp.send('Profiler.setSamplingInterval', { interval: 100 })]).then(() => cdp.send('Profiler.start'));
  result = await page.evaluate(([c, u]) => window.runBoardBench!(c!, u!), [cards, updates]);
  if (cdp && cpuProfile) {
    const { profile } = await cdp.send('Profiler.stop');
    mkdirSync(dirname(cpuProfile), { recursive: true });
    writeFileSync(cpuProfile, JSON.stringify(profile));
    console.log(`wrote ${cpuProfile} (open in Chrome DevTools → Performance)`);
  }
} finally {
  await browser.close();
}

const report = formatBoardBench(result, `@crmkit/react-hooks board benchmark — React ${react.version}, production (profiling build), Chromium ${chromiumVersion}`);
console.log(report.text, '\n');
if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({ reactVersion: react.version, chromium: chromiumVersion, ...result }, null, 2));
  console.log(`wrote ${json}`);
}
if (!report.met) process.exitCode = 1;
