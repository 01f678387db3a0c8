import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient, type SyncTransport } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, faultyTransport } from './support.js';

/** A transport whose next push after `hold()` reaches the server at once, its answer held until the returned `open()` (a slow response). */
function slowAnswer(inner: SyncTransport) {
  let gate: Promise<void> | undefined;
  const transport: SyncTransport = {
    pull: (body, signal) => inner.pull(body, signal),
    async push(body, signal) {
      const answer = inner.push(body, signal).then((r) => ({ r }), (e: unknown) => ({ e }));
      const held = gate;
      gate = undefined;
      await held;
      const got = await answer;
      if ('e' in got) throw got.e;
      return got.r;
    },
  };
  const hold = () => {
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    return () => open();
  };
  return { transport, hold };
}

/**
 * review13b notes: `sequence_gap` is answered to a push two tabs (two sync clients on one device database)
 * may send at once. Against a server restored from a backup, tab A resends the lost commands and the server
 * accepts them; tab B's answer to its earlier push (the same gap) arrives late and must change nothing —
 * before, B took a new client id (a reset, a full download, "restored or copied" shown to the user) and
 * renumbered whatever A had pushed meanwhile.
 */
describe('a stale sequence_gap answer from a second tab', () => {
  it('renews nothing after the first tab resent the lost commands', async () => {
    const a = await serverOf(() => createMemoryStorage());
    const b = await serverOf(() => createMemoryStorage()); // a before the device's commands: the restored backup
    const deal = await a.crm.deals.create({ title: 'Acme', pipelineId: a.pipeline.id });
    await b.crm.deals.create({ id: deal.id, title: 'Acme', pipelineId: b.pipeline.id } as never);
    const dev = await deviceCrm({ user: 'anna', seed: 141 });
    const net = { current: faultyTransport(a.server, 'anna') };
    const viaA: SyncTransport = { push: (x, s) => net.current.transport.push(x, s), pull: (x, s) => net.current.transport.pull(x, s) };
    const slowB = slowAnswer(viaA);
    const tabA = await createSyncClient({ crm: dev.crm, transport: viaA, start: false });
    const tabB = await createSyncClient({ crm: dev.crm, transport: slowB.transport, start: false });
    await tabA.syncNow();
    await tabA.crm.deals.update(deal.id, { title: 'Acme (accepted by a)' }); // seq 1
    net.current.faults.blocked = 'pull';
    await expect(tabA.syncNow()).rejects.toThrow(); // accepted, not confirmed: still in the log
    net.current = faultyTransport(b.server, 'anna'); // the office restores yesterday's backup
    await tabA.crm.deals.update(deal.id, { title: 'Acme (after the restore)' }); // seq 2
    const open = slowB.hold();
    const bRun = tabB.syncNow().catch((e: unknown) => e); // pushes [2]: sequence_gap expected 1, answer held
    await new Promise((r) => setTimeout(r, 20));
    await tabA.syncNow(); // the same gap: resends 1, pushes 1..2, pulls (confirmed, the log is empty)
    open();
    await bRun;
    await tabA.syncNow();
    expect({ renewedA: tabA.status().renewed, renewedB: tabB.status().renewed, rejected: tabB.status().rejected }).toEqual({ renewedA: undefined, renewedB: undefined, rejected: [] });
    expect((await b.crm.deals.get(deal.id)).title).toBe('Acme (after the restore)');
  });
});
