/**
 * Design sync.md §12 (per-command refusals), in real headless Chromium with harness.ts, as
 * two-devices.test.ts: the server runs `access()`, whose policy lets a rep read her team's deals but
 * change only her own. Anna's device, offline, advances a teammate's deal (readable, not hers): refused at
 * once with `FORBIDDEN` as `crm.as` refuses it (the device judges grants, fix13j). She renames a deal the
 * server meanwhile handed to another team (no longer readable): on reconnect the server rejects it with
 * `NOT_FOUND`, accepts her change to her own deal, the optimistic effects go,
 * the rejections are in `status().rejected`, and the device equals what the server lets Anna read.
 */
import { describe, expect, it } from 'vitest';
import { syncedDevice, syncedRows } from '../client/support.js';
import type {} from './entry.js'; // window.crmkitSync's type
import { servedDevices, until, useChromium } from './harness.js';
import { openDevice } from './session.js';

const browser = useChromium();

describe('a Chromium device whose commands the server\'s access policy refuses', () => {
  it('FORBIDDEN and NOT_FOUND verdicts: optimistic effects dropped, rejections in status, the device equals the server\'s projection', async () => {
    const { crm: server, server: sync, pipeline, http, stop } = await servedDevices({ access: true });
    try {
      await server.access.setPolicy({
        roles: { rep: { grants: { deal: { read: 'team', '*': 'own' }, pipeline: { read: 'all' } } } },
        defaultRoles: ['rep'],
      });
      await server.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'ben', teamIds: ['north'] }, { id: 'carl', teamIds: ['south'] }] });
      const own = await server.deals.create({ title: 'Anna: chairs', pipelineId: pipeline.id, ownerId: 'anna' });
      const bens = await server.deals.create({ title: 'Ben: desks', pipelineId: pipeline.id, ownerId: 'ben' });
      const handed = await server.deals.create({ title: 'Anna: lamps', pipelineId: pipeline.id, ownerId: 'anna' });
      const { page, context } = await openDevice(browser(), http.url);
      await page.evaluate((o) => window.crmkitSync.start(o), { user: 'anna', database: 'device-anna', pipelineId: pipeline.id });
      const ids = JSON.stringify([own.id, bens.id, handed.id]);
      await until(page, `d.status().live === 'sse' && !!d.status().lastSyncAt && ${ids}.every((id) => d.stageOf[id] === 'new')`);

      await context.setOffline(true);
      await server.deals.update(handed.id, { ownerId: 'carl' }); // out of Anna's read scope while she is offline
      const device = (script: string) => page.evaluate(`(() => { const c = window.crmkitSync.device.sync.crm; return ${script}; })()`);
      expect(await device(`c.deals.update(${JSON.stringify(own.id)}, { title: 'Anna: chairs (signed)' }).then((d) => d.title)`)).toBe('Anna: chairs (signed)');
      // The device judges her grants as `crm.as(anna)` does: refused at once, nothing recorded (fix13j).
      expect(await device(`c.deals.advance(${JSON.stringify(bens.id)}).then((d) => d.stageKey, (e) => e.code)`)).toBe('FORBIDDEN');
      expect(await device(`c.deals.update(${JSON.stringify(handed.id)}, { title: 'Anna: lamps (called)' }).then((d) => d.title)`)).toBe('Anna: lamps (called)');
      await until(page, `d.status().state === 'offline' && d.status().unpushed === 2 && d.stageOf[${JSON.stringify(bens.id)}] === 'new'`);

      await context.setOffline(false); // the page's `online` event runs a cycle
      await until(page, `d.status().rejected.length === 1 && d.status().pending === 0 && d.status().state === 'idle'`);
      const rejected = await page.evaluate(() => window.crmkitSync.device!.status().rejected);
      expect(rejected).toMatchObject([
        { seq: 2, name: 'deals.update', args: [handed.id, { title: 'Anna: lamps (called)' }], error: { code: 'NOT_FOUND', details: { entity: 'deal', id: handed.id } } },
      ]);
      // The server applied only Anna's change to her own deal.
      expect([(await server.deals.get(own.id)).title, (await server.deals.get(bens.id)).stageKey, (await server.deals.get(handed.id)).title]).toEqual(['Anna: chairs (signed)', 'new', 'Anna: lamps']);
      // The board: Ben's deal back in `new`, the handed-over deal gone from the device.
      await until(page, `d.stageOf[${JSON.stringify(bens.id)}] === 'new' && !(${JSON.stringify(handed.id)} in d.stageOf)`);
      // The device holds exactly what a fresh device of Anna's pulls (the server's projection for her).
      const fresh = await syncedDevice(sync, { user: 'anna', seed: 31 });
      await fresh.client.syncNow();
      const truth = await syncedRows(fresh.inner);
      expect(truth.deal!.map((r) => r.id).sort()).toEqual([own.id, bens.id].sort());
      expect(await page.evaluate(() => window.crmkitSync.device!.rows())).toEqual(JSON.parse(JSON.stringify(truth)));
    } finally {
      await stop();
    }
  }, 120_000);
});
