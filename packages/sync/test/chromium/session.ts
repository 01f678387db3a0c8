import { fileURLToPath } from 'node:url';
import { launchChromium } from '@crmkit/test-support/chromium';
// The bundler of @crmkit/storage-indexeddb's Chromium tests (esbuild, workspace packages from source).
import { bundle, launchProfile } from '../../../storage-indexeddb/test/chromium/browser-session.js';
import { loopback } from '../support/loopback.js';

export type Browser = Awaited<ReturnType<typeof launchChromium>>;
export type Context = Awaited<ReturnType<Browser['newContext']>>;
export type Page = Awaited<ReturnType<Context['newPage']>>;

const PAGE = '<!doctype html><meta charset="utf-8"><title>crmkit device</title><script type="module" src="/bundle.js"></script>';

/**
 * A sync server's handler on loopback that also serves the device page (`/`) and its bundle: pages and
 * `/sync` share one origin, so the device's `endpoint` is `/sync` as in a real app, without CORS.
 *
 * @param entry The page's TypeScript entry (a file path), bundled with the workspace packages from source.
 */
export async function serveDevicePage(handler: { handle(request: Request): Promise<Response> }, entry = fileURLToPath(new URL('./entry.ts', import.meta.url))) {
  const script = await bundle(entry);
  return loopback(handler, { files: { '/': { type: 'text/html', body: PAGE }, '/bundle.js': { type: 'text/javascript', body: script } } });
}

/** Opens the device page in a fresh browser context (a device of its own: its own IndexedDB) and waits for the bundle. */
export async function openDevice(browser: Browser, url: string): Promise<{ context: Context; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${url}/`);
  try {
    await page.waitForFunction(() => 'crmkitSync' in window, undefined, { timeout: 30_000 });
  } catch (error) {
    throw new Error(`The device page did not load: ${errors.join('\n') || String(error)}`);
  }
  return { context, page };
}

export { launchChromium, launchProfile };
