// The set-up the Chromium device tests share (vitest hooks: not for the bench, which imports session.ts).
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { afterAll, beforeAll } from 'vitest';
import { serverOf } from '../server/support.js';
import type {} from './entry.js'; // window.crmkitSync's type
import { launchChromium, serveDevicePage, type Browser, type Page } from './session.js';

/** One headless Chromium for a test file, launched before its tests and closed after; call at the file's top level. */
export function useChromium(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => browser!;
}

/** Waits in the page until `predicate` (JavaScript over `d`, the page's device) holds. */
export const until = (page: Page, predicate: string, timeout = 15_000) => page.waitForFunction(`(() => { const d = window.crmkitSync.device; return !!d && (${predicate}); })()`, undefined, { timeout, polling: 20 });

/**
 * A sync server on SQLite in memory (`serverOf` with `options`) and the device page served with it on
 * loopback (`http.url`); `stop()` ends both.
 */
export async function servedDevices(options?: Parameters<typeof serverOf>[1]) {
  const served = await serverOf(() => createSqliteStorage({ filename: ':memory:' }), options);
  const http = await serveDevicePage(served.server);
  return {
    ...served,
    http,
    stop: async () => {
      await http.stop();
      await served.server.close();
    },
  };
}
