/**
 * Design sync.md §13 test 3, Chromium part: the page is closed during the initial sync of 5 000 deals;
 * reopened (same browser context, so the same IndexedDB), the device resumes from the checkpoint stored
 * with the last applied page — it fetches fewer pages than a whole sync — and ends equal to the server.
 */
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { describe, expect, it } from 'vitest';
import { seedRows } from '../../bench/seed.js';
import { syncedRows } from '../client/support.js';
import { serverOf } from '../server/support.js';
import type {} from './entry.js'; // window.crmkitSync's type
import { useChromium } from './harness.js';
import { openDevice, serveDevicePage } from './session.js';

const browser = useChromium();

describe('Chromium: a page closed during the initial sync', () => {
  it('reopened, resumes from the stored checkpoint (fewer pages than a whole sync) and ends equal to the server', async () => {
    const storage = createSqliteStorage({ filename: ':memory:' });
    await seedRows(storage, 5_000, { contacts: false });
    // Backfill chunks of 250 positions: pages end on server transactions, so 500-row pages stay 500 rows.
    const { server: sync, pipeline } = await serverOf(() => storage, { storage, backfillChunk: 250 });
    let pulls = 0;
    const http = await serveDevicePage({ handle: (request) => ((pulls += Number(request.url.endsWith('/pull'))), sync.handle(request)) });
    try {
      const first = await openDevice(browser(), http.url);
      const options = { user: 'anna', database: 'device-resume', pipelineId: pipeline.id, pageRows: 500 };
      await first.page.evaluate((o) => window.crmkitSync.start(o), options);
      await first.page.waitForFunction(() => (window.crmkitSync.device?.status().initialSync?.rows ?? 0) >= 1_500, undefined, { timeout: 60_000, polling: 5 });
      await first.page.close(); // mid-sync: the page (and its transactions in flight) goes away
      const before = pulls;
      expect(before).toBeLessThan(10);

      const page = await first.context.newPage();
      await page.goto(`${http.url}/`);
      await page.waitForFunction(() => 'crmkitSync' in window);
      const resumedAt = await page.evaluate(async (name) => {
        // Rows already stored when the page reopens, read before the device starts.
        const open = indexedDB.open(name);
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        const count = await new Promise<number>((resolve) => {
          const r = db.transaction('deal').objectStore('deal').count();
          r.onsuccess = () => resolve(r.result);
        });
        db.close();
        return count;
      }, options.database);
      expect(resumedAt).toBeGreaterThanOrEqual(1_000);
      await page.evaluate((o) => window.crmkitSync.start(o), options);
      await page.waitForFunction(() => !!window.crmkitSync.device?.status().lastSyncAt, undefined, { timeout: 60_000, polling: 20 });
      const after = pulls - before;
      const whole = Math.ceil(5_000 / 500) + 1; // 5 000 seeded deals, the pipelines, stage visits: at least 11 pages
      expect(after).toBeLessThan(whole);
      expect(after).toBeGreaterThan(0);
      const truth = await syncedRows(storage);
      expect(truth.deal).toHaveLength(5_001); // the copies and their template
      expect(await page.evaluate(() => window.crmkitSync.device!.rows())).toEqual(JSON.parse(JSON.stringify(truth)));
    } finally {
      await http.stop();
      await sync.close();
    }
  }, 180_000);
});
