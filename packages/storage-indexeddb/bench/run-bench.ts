/**
 * `pnpm bench`: runs bench/bench-page.ts in headless Chromium (playwright-core, the Chromium of @crmkit/test-support),
 * prints a table, and with `--json FILE` writes the entries (`name`, `crmkit_ms`, `raw_ms`, `ratio`).
 * Also reports the adapter's minified + gzipped size. Options: --deals N (10000), --rounds R (3), --reads K (15).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { bundle, launchChromium, openPage, serve } from '../test/chromium/browser-session.js';
import type { BenchEntry } from './bench-page.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const deals = Number(option('deals') ?? 10_000);
const rounds = Number(option('rounds') ?? 3);
const reads = Number(option('reads') ?? 15);
const json = option('json');

/** min+gzip of the package entry with `@crmkit/core` external (as `scripts/bundle-size.mjs` measures it). */
async function size(): Promise<{ min: number; gzip: number }> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    external: ['@crmkit/core', '@crmkit/core/*'],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const script = await bundle(fileURLToPath(new URL('./bench-page.ts', import.meta.url)));
const browser = await launchChromium();
let entries: BenchEntry[];
try {
  const context = await serve(browser, script);
  const page = await openPage(context, 'crmkitBench');
  page.setDefaultTimeout(0);
  entries = await page.evaluate(({ deals, rounds, reads }) => window.crmkitBench.runBench(deals, rounds, reads), { deals, rounds, reads });
} finally {
  await browser.close();
}

const bytes = await size();
const version = (await browser.version?.()) ?? '';
console.log(`\ncrmkit IndexedDB benchmark — headless Chromium ${version}, ${deals} deals, median of ${rounds} imports and ${reads} board reads\n`);
console.log(['name'.padEnd(40), 'crmkit ms'.padStart(10), 'raw ms'.padStart(10), 'ratio'.padStart(7), 'budget'.padStart(7)].join(' '));
for (const e of entries) {
  const verdict = e.budget ? `${e.ratio <= e.budget ? '≤' : '>'}${e.budget}` : '';
  console.log([e.name.padEnd(40), e.crmkit_ms.toFixed(1).padStart(10), e.raw_ms.toFixed(1).padStart(10), e.ratio.toFixed(2).padStart(7), verdict.padStart(7)].join(' '));
}
for (const e of entries) console.log(`  - ${e.name}: ${e.note}`);
console.log(`\nsize (esbuild --minify, gzip -9, @crmkit/core external, no other dependency): ${(bytes.min / 1000).toFixed(1)} kB min, ${(bytes.gzip / 1000).toFixed(2)} kB min+gzip; budget 6 kB`);
if (json) {
  writeFileSync(json, `${JSON.stringify(entries, null, 2)}\n`);
  console.log(`wrote ${json}`);
}
