import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, faultyTransport, gatedTransport } from '../client/support.js';

/**
 * review13b B1: two tabs (two sync clients on one device database) wake together on reconnect with a day
 * of offline work (150 commands). Tab B's push of seqs 1..100 is slow on the network and reaches the server
 * after tab A pushed 1..100 and 101..150. The server keeps digests of the last 100 seqs only: B's genuine
 * retry of seq 1 is answered `sequence_reused`, and B renews the client id, renumbering every *accepted*
 * command of the shared log and pushing it again under a new id.
 */
/** Two tabs of Anna's device: two sync clients on one device database; tab B's pushes pass a gate. */
async function twoTabs(server: { handle(r: Request): Promise<Response> }, seed: number) {
  const dev = await deviceCrm({ user: 'anna', seed });
  const netA = faultyTransport(server, 'anna');
  const slowB = gatedTransport(faultyTransport(server, 'anna').transport);
  const a = await createSyncClient({ crm: dev.crm, transport: netA.transport, start: false });
  const b = await createSyncClient({ crm: dev.crm, transport: slowB.transport, start: false });
  return { netA, slowB, a, b };
}

describe('review13b: a late duplicate push from a second tab', () => {
  it('does not renew the client id nor report applied work as rejected', async () => {
    const { crm, server, pipeline } = await serverOf(() => createMemoryStorage());
    const { netA, slowB, a, b } = await twoTabs(server, 131);
    await a.syncNow();
    for (let i = 0; i < 150; i++) await a.crm.deals.create({ title: `Deal ${i}`, pipelineId: pipeline.id });
    const atGate = slowB.hold();
    const bRun = b.syncNow().catch((e: unknown) => e);
    await atGate; // B sent seqs 1..100; the request is still on the network
    netA.faults.beforePull = async () => {
      slowB.open(); // B's request arrives after A pushed everything
      await bRun;
    };
    await a.syncNow();
    await b.syncNow().catch(() => undefined);
    await a.syncNow();
    expect((await crm.deals.list({ limit: 500 } as never)).items).toHaveLength(150);
    expect({ a: a.status().rejected.length, b: b.status().rejected.length, renewed: a.status().renewed?.message }).toEqual({ a: 0, b: 0, renewed: undefined });
  });

  it('does not apply an update twice over the office\'s newer edit (lost update)', async () => {
    const { crm, server, pipeline } = await serverOf(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const { netA, slowB, a, b } = await twoTabs(server, 138);
    await a.syncNow();
    await a.crm.deals.update(deal.id, { title: 'Acme (Anna, offline)' });
    for (let i = 0; i < 120; i++) await a.crm.activities.log({ kind: 'note', dealId: deal.id, body: `note ${i}` } as never);
    const atGate = slowB.hold();
    const bRun = b.syncNow().catch((e: unknown) => e);
    await atGate;
    netA.faults.beforePull = async () => {
      await crm.deals.update(deal.id, { title: 'Acme (office, later)' }); // after Anna's update was applied
      slowB.open();
      await bRun;
    };
    await a.syncNow();
    await b.syncNow().catch(() => undefined);
    expect((await crm.deals.get(deal.id)).title).toBe('Acme (office, later)');
  });
});
