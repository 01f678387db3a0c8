/**
 * Design sync.md §13 test 1 (the first test), in real headless Chromium (playwright-core and the
 * Chromium of @crmkit/test-support, as @crmkit/storage-indexeddb's Chromium tests): one Node sync server
 * on SQLite behind Node's http on loopback, two browser contexts = two devices with their own IndexedDB.
 * Both go offline (Chromium's offline emulation), make overlapping changes, come back: both converge to
 * the server and the losing device reports the rejection.
 */
import { describe, expect, it } from 'vitest';
import { syncedRows } from '../client/support.js';
import type {} from './entry.js'; // window.crmkitSync's type
import { servedDevices, until, useChromium } from './harness.js';
import { openDevice } from './session.js';

const browser = useChromium();

describe('two Chromium devices and one Node server on loopback', () => {
  it('offline on both, the same deal advanced on one and lost on the other: both converge to the server, the loser reports the rejection', async () => {
    const { crm: server, pipeline, storage, http, stop } = await servedDevices();
    try {
      const deal = await server.deals.create({ title: 'Acme rollout', pipelineId: pipeline.id, ownerId: 'anna' });
      await server.contacts.create({ name: 'Ada Buyer' });
      const a = await openDevice(browser(), http.url);
      const b = await openDevice(browser(), http.url);
      await a.page.evaluate((o) => window.crmkitSync.start(o), { user: 'anna', database: 'device-anna', pipelineId: pipeline.id });
      await b.page.evaluate((o) => window.crmkitSync.start(o), { user: 'ben', database: 'device-ben', pipelineId: pipeline.id });
      for (const { page } of [a, b]) await until(page, `d.status().live === 'sse' && !!d.status().lastSyncAt && d.stageOf[${JSON.stringify(deal.id)}] === 'new'`);

      await a.context.setOffline(true);
      await b.context.setOffline(true);
      expect(await a.page.evaluate((id) => window.crmkitSync.device!.sync.crm.deals.advance(id).then((d) => d.stageKey), deal.id)).toBe('proposal');
      expect(await b.page.evaluate((id) => window.crmkitSync.device!.sync.crm.deals.lose(id, { reason: 'price' }).then((d) => d.status), deal.id)).toBe('lost');
      // The kicked cycles fail: both devices know they are offline, the server saw nothing.
      for (const { page } of [a, b]) await until(page, `d.status().state === 'offline' && d.status().unpushed === 1`);
      await until(b.page, `!(${JSON.stringify(deal.id)} in d.stageOf)`); // lost: off B's board at once
      expect(await a.page.evaluate((id) => window.crmkitSync.device!.stageOf[id], deal.id)).toBe('proposal');
      expect((await server.deals.get(deal.id)).stageKey).toBe('new');

      await a.context.setOffline(false); // the page's `online` event runs a cycle (design §9)
      await until(a.page, `d.status().pending === 0 && d.status().state === 'idle'`);
      expect((await server.deals.get(deal.id)).stageKey).toBe('proposal');
      await b.context.setOffline(false);
      await until(b.page, `d.status().rejected.length === 1 && d.status().pending === 0 && d.status().state === 'idle'`);
      // A converged page has pulled everything: wait for both to settle on the server's head.
      await until(b.page, `d.stageOf[${JSON.stringify(deal.id)}] === 'proposal'`);
      await until(a.page, `d.status().pending === 0`);

      const truth = await syncedRows(storage);
      expect(truth.deal!.map((r) => [r.id, r.stageKey, r.status])).toEqual([[deal.id, 'proposal', 'open']]);
      for (const { page } of [a, b]) expect(await page.evaluate(() => window.crmkitSync.device!.rows())).toEqual(JSON.parse(JSON.stringify(truth)));
      const rejected = await b.page.evaluate(() => window.crmkitSync.device!.status().rejected);
      expect(rejected).toMatchObject([{ seq: 1, name: 'deals.lose', args: [deal.id, { reason: 'price', version: 1 }], error: { code: 'CONFLICT' } }]);
      expect(await a.page.evaluate(() => window.crmkitSync.device!.status().rejected)).toEqual([]);
      // B's board (observers) went lost → proposal without a reload.
      expect(await b.page.evaluate((id) => window.crmkitSync.device!.stageOf[id], deal.id)).toBe('proposal');
    } finally {
      await stop();
    }
  }, 120_000);
});
