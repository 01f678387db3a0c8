/**
 * PGlite storage in a real browser: the page bundle (test/browser/pglite-page.ts) runs crmkit on PGlite
 * persisted in Chromium's IndexedDB (`idb://`, created from a dump of a fresh database), writes on one
 * page load and reads back on the next.
 * And the `@crmkit/storage-sqlite/pglite` entry bundles for the browser with nothing external: no
 * `node:` module, no pg, no better-sqlite3.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { launchChromium } from '@crmkit/test-support/chromium';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alias } from '../../../vitest.shared.js';
import { pgliteTemplate } from './support/pglite-subjects.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ORIGIN = 'http://localhost:4174';
const PGLITE_DIST = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')); // .../dist/index.cjs

/** Resolves the workspace packages (every entry point) to their sources, as the tests do. */
const sources: Plugin = {
  name: 'crmkit-sources',
  setup(b) {
    const map: Record<string, string> = alias;
    b.onResolve({ filter: /^@crmkit\// }, (args) => (map[args.path] ? { path: map[args.path] } : undefined));
  },
};

/**
 * PGlite's own `import('node:module')` behind an "am I in Node?" check, never reached in a browser (its
 * other Node built-ins are mapped away by the `browser` field of its package.json).
 */
const PGLITE_NODE_ONLY = ['node:*'];

let browser: Browser;
let script: string;
let template: Buffer;

beforeAll(async () => {
  const result = await build({
    entryPoints: [here('./browser/pglite-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    plugins: [sources],
    external: PGLITE_NODE_ONLY,
    logLevel: 'silent',
  });
  script = result.outputFiles[0]!.text;
  template = readFileSync(await pgliteTemplate());
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function openPage(): Promise<Page> {
  const context = browser.contexts()[0] ?? (await browser.newContext());
  await context.route(`${ORIGIN}/**`, (route) => {
    const file = new URL(route.request().url()).pathname.slice(1);
    if (file === 'bundle.js') return route.fulfill({ contentType: 'text/javascript', body: script });
    if (file === 'template.tar') return route.fulfill({ contentType: 'application/x-tar', body: template });
    if (file === '') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><script type="module" src="/bundle.js"></script>' });
    // pglite.wasm, pglite.data, initdb.wasm: PGlite fetches them next to its module (here: the bundle).
    if (/^[a-z]+\.(wasm|data)$/.test(file)) return route.fulfill({ contentType: file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream', body: readFileSync(join(PGLITE_DIST, file)) });
    return route.fulfill({ status: 404, body: 'not found' });
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${ORIGIN}/`);
  try {
    await page.waitForFunction(() => 'crmkitPglite' in window, undefined, { timeout: 30_000 });
  } catch (error) {
    throw new Error(`The test page did not load: ${errors.join('\n') || String(error)}`);
  }
  return page;
}

describe('PGlite storage in Chromium', () => {
  it('runs the crm on PGlite in IndexedDB and finds it again after a page reload', async () => {
    const first = await openPage();
    const written = await first.evaluate(() => window.crmkitPglite.write());
    expect(written.durable).toBe(true);
    expect(written.board).toEqual(['new:0', 'proposal:1']);
    await first.close();

    const second = await openPage();
    const read = await second.evaluate((id) => window.crmkitPglite.read(id), written.dealId);
    expect(read).toMatchObject({ title: 'Browser deal', stage: 'proposal', amount: 4200_00 });
    expect(read.events).toContain('deal.created');
    expect(read.events).toContain('deal.stageChanged');
  }, 240_000); // WebAssembly PostgreSQL in a browser on a shared 2-core machine: slow, never a timing check

  it('the @crmkit/storage-sqlite/pglite entry bundles for browsers with nothing left external', async () => {
    const result = await build({
      stdin: { contents: "export * from '@crmkit/storage-sqlite/pglite';", resolveDir: here('.'), loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      plugins: [sources],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((path) => /(^|\/)node:|node_modules\/(pg|better-sqlite3|@electric-sql\/pglite)\//.test(path))).toEqual([]);
    expect(inputs.some((path) => path.endsWith('postgres-engine.ts'))).toBe(true);
  });
});
