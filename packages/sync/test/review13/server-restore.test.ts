import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, faultyTransport } from '../client/support.js';

/**
 * review13: docs/sync.md "a gap before the first seq (the server lost commands, e.g. restored from a backup) —
 * the device pushes again from there". When the device no longer holds those commands (confirmed by a pull,
 * dropped from its log), it cannot — and then?
 */
describe('review13: a server restored from a backup older than commands the device already confirmed', () => {
  it('the device keeps working: its new commands reach the restored server', async () => {
    const a = await serverOf(() => createMemoryStorage());
    const b = await serverOf(() => createMemoryStorage()); // A before the device's commands
    let current = faultyTransport(a.server, 'anna').transport;
    const dev = await deviceCrm({ user: 'anna', seed: 84 });
    const client = await createSyncClient({ crm: dev.crm, start: false, transport: { push: (x, s) => current.push(x, s), pull: (x, s) => current.pull(x, s) } });
    await client.syncNow();
    await client.crm.deals.create({ title: 'Confirmed on A', pipelineId: a.pipeline.id });
    await client.syncNow(); // pushed and confirmed by the pull: gone from the log
    current = faultyTransport(b.server, 'anna').transport; // the office restores yesterday's backup
    const fresh = await client.crm.deals.create({ title: 'After the restore', pipelineId: a.pipeline.id });
    await client.syncNow().catch((e: unknown) => console.log('syncNow', (e as Error).message));
    await client.syncNow().catch((e: unknown) => console.log('syncNow again', (e as Error).message));
    expect((await b.crm.deals.list()).items.map((d) => d.id)).toContain(fresh.id);
  });
});
