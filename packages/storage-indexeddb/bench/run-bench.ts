/**
 * `pnpm bench`: runs bench/bench-page.ts in headless Chromium (playwright-core, the Chromium of @crmkit/test-support), prints a table with each budget and whether it holds, and with `--json FILE` writes the
 * entries. The budgeted board p95s are read at rest: after the imports the browser is left `QUIET_MS`
 * of quiet before `steadyBoard` reads the kept database with a new crm; then the big pipeline is written
 * (`runBig`) and read at rest the same way (written before the 10k read, it most likely still kept the
 * backend busy then). The reads right after the bulk writes stay in the table as reference lines. Also builds the package and checks its minified + gzipped size (idb included, core excluded) with `scripts/bundle-size.mjs`'s measurement and budget.
 * Exits with 1 when a budget is missed. Options: --deals N (10000), --rounds R (3), --reads K (60),
 * --big N (100000; 0 skips the big pipeline), --incognito (an off-the-record context: IndexedDB in memory,
 * see `launchProfile`; the default is a fresh on-disk profile, as users have). Progress goes to stderr.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundle, launchChromium, launchProfile, openPage, route, serve } from '../test/chromium/browser-session.js';
import type { BenchEntry } from './bench-page.js';
import { size } from './size.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const deals = Number(option('deals') ?? 10_000);
const rounds = Number(option('rounds') ?? 3);
const reads = Number(option('reads') ?? 60);
const big = Number(option('big') ?? 100_000);
const json = option('json');
const incognito = args.includes('--incognito');
const script = await bundle(fileURLToPath(new URL('./bench-page.ts', import.meta.url)));
let entries: BenchEntry[];
let version = '';
const started = Date.now();
const session = incognito
  ? await launchChromium().then(async (browser) => ({ browser, context: await serve(browser, script), close: () => browser.close() }))
  : await launchProfile().then(async (profile) => {
      await route(profile.context, script);
      return { browser: profile.context.browser(), context: profile.context, close: profile.close };
    });
try {
  const page = await openPage(session.context, 'crmkitBench');
  version = session.browser?.version() ?? (await page.evaluate(() => navigator.userAgent));
  page.on('console', (message) => {
    if (message.text().startsWith('[bench]')) console.error(`${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s ${message.text()}`);
  });
  page.setDefaultTimeout(0);
  const run = await page.evaluate((options) => window.crmkitBench.runBench(options), { deals, rounds, reads, big: 0 });
  entries = run.entries;
  // The budgeted board reads: a user opening the app on a database at rest (see bench-page.ts). Each
  // right after the quiet that follows its own database's writes: the big pipeline is written only
  // after the 10k board at rest (right after its 100k writes the 10k board's p95 doubled).
  const atRest = async (kept: (typeof run.kept)[number]) => {
    const quiet = await page.evaluate(() => window.crmkitBench.QUIET_MS);
    console.error(`${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s [bench] ${quiet / 1000} s of quiet, then the board at rest (${kept.deals} deals)`);
    await new Promise((resolve) => setTimeout(resolve, quiet));
    entries.push(...(await page.evaluate(([k, r]) => window.crmkitBench.steadyBoard(k as typeof kept, r as number), [kept, reads] as const)));
  };
  for (const kept of run.kept) await atRest(kept);
  if (big > 0) {
    const b = await page.evaluate(([n, r]) => window.crmkitBench.runBig(n, r), [big, reads] as const);
    entries.push(...b.entries);
    await atRest(b.kept);
  }
  await page.evaluate(() => window.crmkitBench.release());
} finally {
  await session.close();
}

const bytes = await size();
const holds = (e: BenchEntry) => (e.budget === undefined ? undefined : (e.kind === 'ms' ? e.crmkit_ms : e.ratio!) <= e.budget);
console.log(`\ncrmkit IndexedDB benchmark — headless Chromium ${version} (${incognito ? 'off-the-record context, IndexedDB in memory' : 'on-disk profile'}), ${deals} deals, median of ${rounds} imports, ${reads} board reads\n`);
console.log(['name'.padEnd(46), 'crmkit ms'.padStart(10), 'raw ms'.padStart(9), 'ratio'.padStart(7), 'budget'.padStart(9), ''].join(' '));
for (const e of entries) {
  const budget = e.budget === undefined ? '' : e.kind === 'ms' ? `${e.budget} ms` : `${e.budget}x`;
  const verdict = holds(e) === undefined ? '' : holds(e) ? 'ok' : 'MISSED';
  console.log([e.name.padEnd(46), e.crmkit_ms.toFixed(1).padStart(10), (e.raw_ms?.toFixed(1) ?? '').padStart(9), (e.ratio?.toFixed(2) ?? '').padStart(7), budget.padStart(9), verdict].join(' '));
}
for (const e of entries) console.log(`  - ${e.name}: ${e.note}`);
const sizeOk = bytes.ok;
console.log(
  bytes.error === undefined
    ? `\nsize (scripts/bundle-size.mjs on the built package: @crmkit/core external, idb included): ${bytes.min} B min, ${bytes.gzip} B min+gzip; budget ${bytes.budget} B ${sizeOk ? 'ok' : 'MISSED'}`
    : `\nsize: not measurable (${bytes.error}) MISSED`,
);
if (json) {
  writeFileSync(json, `${JSON.stringify({ entries, size: bytes }, null, 2)}\n`);
  console.log(`wrote ${json}`);
}
const missed = entries.filter((e) => holds(e) === false).map((e) => e.name);
if (!sizeOk) missed.push('size');
if (missed.length) {
  console.error(`\nbudgets missed: ${missed.join(', ')}`);
  process.exitCode = 1;
}
