import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium, LAUNCH_ARGS } from '@crmkit/test-support/chromium';
import { build, type Plugin } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { alias } from '../../../../vitest.shared.js';

export { launchChromium } from '@crmkit/test-support/chromium';

/** Pages load from this origin; Playwright serves it from memory (no server, no network). localhost is a secure context. */
export const ORIGIN = 'http://localhost:4173';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Maps the workspace packages (every entry point) to their sources and `vitest` to the in-page shim. */
const sources: Plugin = {
  name: 'crmkit-sources',
  setup(b) {
    const map: Record<string, string> = { ...alias, vitest: here('../browser/vitest-shim.ts') };
    b.onResolve({ filter: /^(@crmkit\/|vitest$)/ }, (args) => (map[args.path] ? { path: map[args.path] } : undefined));
  },
};

/** Bundles a browser entry (TypeScript) into one ES module. */
export async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    define: { 'process.env.NODE_ENV': '"test"' },
    plugins: [sources],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/**
 * Headless Chromium with a fresh on-disk profile (a temporary user-data directory, removed by `close`):
 * IndexedDB as a user's browser keeps it. `browser.newContext()` contexts are off the record — their
 * IndexedDB lives in memory, with a quota of a fraction of RAM, and in the headless Chromium builds we
 * test with its writes slow down with the size of the database (3,000 imported deals: ≈ 7× slower than
 * on disk), which is no measure of what users get.
 *
 * @returns The profile's browser context, its directory and a `close` that also deletes the profile.
 */
export async function launchProfile(): Promise<{ context: BrowserContext; dir: string; close(): Promise<void> }> {
  const binary = await findChromium();
  const dir = mkdtempSync(join(tmpdir(), 'crmkit-profile-'));
  try {
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: binary.executablePath,
      args: LAUNCH_ARGS,
      env: { ...(process.env as Record<string, string>), ...binary.env },
    });
    return {
      context,
      dir,
      async close() {
        await context.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Routes `context`'s origin: `html` at `/` and the bundle at `/bundle.js`. */
export async function route(context: BrowserContext, script: string, html = '<!doctype html><meta charset="utf-8"><title>crmkit</title><script type="module" src="/bundle.js"></script>'): Promise<void> {
  await context.route(`${ORIGIN}/**`, (r) => {
    const isScript = new URL(r.request().url()).pathname === '/bundle.js';
    return r.fulfill({ status: 200, contentType: isScript ? 'text/javascript' : 'text/html', body: isScript ? script : html });
  });
}

/** A browser context whose origin serves `html` at `/` and the bundle at `/bundle.js`. */
export async function serve(browser: Browser, script: string, html = '<!doctype html><meta charset="utf-8"><title>crmkit</title><script type="module" src="/bundle.js"></script>'): Promise<BrowserContext> {
  const context = await browser.newContext();
  await route(context, script, html);
  return context;
}

/** Opens a page of the context and waits until the bundle has set `window[ready]`. */
export async function openPage(context: BrowserContext, ready: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${ORIGIN}/`);
  try {
    await page.waitForFunction((key) => key in window, ready, { timeout: 30_000 });
  } catch (error) {
    throw new Error(`The test page did not load: ${errors.join('\n') || String(error)}`);
  }
  return page;
}
