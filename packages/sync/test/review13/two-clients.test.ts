import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, faultyTransport, own, syncedRows } from '../client/support.js';

/**
 * review13: a Node/Electron host (no Web Locks) that creates a second sync client on the same device crm —
 * a hot reload, a second window's module, a retry of its own start-up code. Nothing refuses it.
 */
describe('review13: two sync clients on one device crm (no navigator.locks)', () => {
  it('are refused, or stay correct: no command applied twice on the device, the device equals the server', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const deals = [];
    for (let i = 0; i < 4; i++) deals.push(await srv.crm.deals.create({ title: `Deal ${i}`, pipelineId: srv.pipeline.id }));
    const dev = await deviceCrm({ user: 'anna', seed: 61 });
    const a = await createSyncClient({ crm: dev.crm, transport: faultyTransport(srv.server, 'anna').transport, start: false });
    let second;
    try {
      second = await createSyncClient({ crm: dev.crm, transport: faultyTransport(srv.server, 'anna').transport, start: false });
    } catch {
      return; // refused: fine
    }
    const b = second;
    await a.syncNow();
    for (let round = 0; round < 5; round++) {
      await Promise.all([
        a.crm.activities.log({ kind: 'note', dealId: deals[round % 4]!.id, body: `a${round}` } as never),
        b.syncNow(),
        a.syncNow(),
        b.crm.deals.update(deals[(round + 1) % 4]!.id, { title: `b${round}` }),
        srv.crm.deals.update(deals[(round + 2) % 4]!.id, { title: `s${round}` }),
      ]);
    }
    await a.syncNow();
    await b.syncNow();
    await a.syncNow();
    expect(await own(dev.inner, 'syncShadow')).toEqual([]);
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(srv.storage));
  });
});
