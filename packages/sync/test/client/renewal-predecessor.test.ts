import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient, type SyncTransport } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, faultyTransport } from './support.js';

/**
 * review13b notes, R3 ∩ renewal: a successor whose version was predicted from a command the server already
 * rejected (`after`) is refused by the server (`CONFLICT predecessorRejected`) while the device's client id
 * has that rejection. When the device takes a new client id first (here: the server restored from a backup
 * that lost the client's row), the new id has no rejections: before, the successor was pushed again without
 * `after` and applied over a foreign write that produced the predicted version (ABA: a won deal reopened).
 * Since fix13i the device sends the version the user saw from the server (no prediction, no `after`): the
 * version check refuses the successor on its own; the test keeps the guarantee (refused, the deal stays won).
 */
describe('a renewal between a rejected predecessor and its successor', () => {
  for (const dismissed of [false, true]) {
    it(`rejects the successor with the server's verdict${dismissed ? ' (the rejection dismissed by the user first)' : ''}`, async () => {
      const { crm, server, storage, pipeline } = await serverOf(() => createMemoryStorage(), { server: { limits: { commands: 1 } } });
      const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
      const dev = await deviceCrm({ user: 'anna', seed: 151 });
      const net = faultyTransport(server, 'anna');
      let cut = true; // the first push of seq 2 is lost on the network
      const transport: SyncTransport = {
        pull: (x, s) => net.transport.pull(x, s),
        push: (x, s) => (cut && x.commands[0]?.seq === 2 ? ((cut = false), Promise.reject(new TypeError('fetch failed (offline)'))) : net.transport.push(x, s)),
      };
      const client = await createSyncClient({ crm: dev.crm, transport, start: false });
      await client.syncNow();
      await client.crm.deals.lose(deal.id, { reason: 'price' }); // seq 1, v1 → v2 predicted
      await client.crm.deals.reopen(deal.id, { toStage: 'new' }); // seq 2: carries v1, the version she saw (fix13i: no prediction, no `after`)
      await crm.as({ userId: 'ben' }).deals.win(deal.id); // the server's v2
      await expect(client.syncNow()).rejects.toThrow(/cannot be reached/); // seq 1 rejected; the push of seq 2 lost
      expect(client.status().rejected.map((r) => r.name)).toEqual(['deals.lose']);
      if (dismissed) await client.dismiss([client.status().rejected[0]!.seq]);
      // The office restores a backup without this device's client row: the next push is a gap, the device renews.
      const { clientId } = net.faults.sent.find((m) => m.route === 'push')!.body as { clientId: string };
      await storage.transaction('rw', (tx) => tx.write('syncClient', 'acme', [{ type: 'delete', id: clientId }]));
      await client.syncNow();
      expect((await crm.deals.get(deal.id)).status).toBe('won');
      const reopen = client.status().rejected.find((r) => r.name === 'deals.reopen');
      // The guarantee, not the mechanism: refused with CONFLICT (Ben's win since v1), the deal stays won (fix13i).
      expect(reopen?.error).toMatchObject({ code: 'CONFLICT' });
      expect(client.status()).toMatchObject({ pending: 0, renewed: expect.anything() });
      expect((await client.crm.deals.get(deal.id)).status).toBe('won');
    });
  }
});
