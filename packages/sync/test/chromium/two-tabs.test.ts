/**
 * Two tabs of one device (one browser context: one IndexedDB) each running a sync client on the same
 * database: commands take distinct seqs (the Web Lock and the store's sequence), both tabs' pull loops
 * race on one checkpoint (the stale-page path), and the device ends equal to the server with every
 * command applied once.
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

describe('Chromium: two tabs on one device database', () => {
  it('both sync at once from empty, both make commands: distinct seqs, each applied once, the tabs equal the server', async () => {
    const storage = createSqliteStorage({ filename: ':memory:' });
    const { dealIds } = await seedRows(storage, 600, { contacts: false });
    const { crm: server, server: sync, pipeline } = await serverOf(() => storage, { storage, backfillChunk: 100 });
    const http = await serveDevicePage(sync);
    try {
      const a = await openDevice(browser(), http.url);
      const page2 = await a.context.newPage();
      await page2.goto(`${http.url}/`);
      await page2.waitForFunction(() => 'crmkitSync' in window);
      const options = { user: 'anna', database: 'device-tabs', pipelineId: pipeline.id, pageRows: 100 };
      await Promise.all([a.page, page2].map((page) => page.evaluate((o) => window.crmkitSync.start(o), options)));
      for (const page of [a.page, page2]) await page.waitForFunction(() => !!window.crmkitSync.device?.status().lastSyncAt, undefined, { timeout: 60_000, polling: 20 });

      const seqs = await Promise.all([
        a.page.evaluate((id) => window.crmkitSync.device!.sync.execute('deals.advance', id).then((r) => r.seq), dealIds[0]!),
        page2.evaluate((id) => window.crmkitSync.device!.sync.execute('deals.postpone', id, { until: '2027-01-01T00:00:00.000Z' }).then((r) => r.seq), dealIds[1]!),
        a.page.evaluate(() => window.crmkitSync.device!.sync.crm.activities.log({ kind: 'note', body: 'From tab A' }).then(() => 0)),
      ]);
      expect(new Set(seqs.slice(0, 2)).size).toBe(2);
      for (const page of [a.page, page2]) await page.evaluate(() => window.crmkitSync.device!.sync.syncNow());
      await a.page.evaluate(() => window.crmkitSync.device!.sync.syncNow());
      expect((await server.deals.get(dealIds[0]!)).stageKey).toBe('proposal');
      expect((await server.deals.get(dealIds[1]!)).postponeCount).toBe(1);
      expect((await server.activities.list({})).items.map((n) => n.body)).toEqual(['From tab A']);
      const truth = JSON.parse(JSON.stringify(await syncedRows(storage)));
      for (const page of [a.page, page2]) {
        expect(await page.evaluate(() => window.crmkitSync.device!.rows())).toEqual(truth);
        expect(await page.evaluate(() => window.crmkitSync.device!.status())).toMatchObject({ pending: 0, rejected: [], errors: [] });
      }
    } finally {
      await http.stop();
      await sync.close();
    }
  }, 180_000);
});
