import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../../src/index.js';
import { scopedServer } from '../server/scope-support.js';
import { deviceCrm, faultyTransport } from '../client/support.js';

/**
 * review13: docs/sync.md "One database per user and tenant … deleting the database is the host's logout".
 * A host that forgets (Ben logs in on Anna's laptop, same database name) gets no error from crmkit: Ben's
 * crm reads Anna's deals, and every sync is a 403 `client_owner`.
 */
describe('review13: another user on a device database', () => {
  it('is refused when the client starts (or Anna\'s rows are swept), never left reading Anna\'s deals', async () => {
    const { crm, server, pipeline } = await scopedServer(() => createMemoryStorage());
    const annas = await crm.deals.create({ title: 'Anna only', pipelineId: pipeline.id, ownerId: 'anna' });
    const inner = createMemoryStorage();
    const anna = await deviceCrm({ user: 'anna', seed: 71, inner });
    const annaClient = await createSyncClient({ crm: anna.crm, transport: faultyTransport(server, 'anna').transport, start: false });
    await annaClient.syncNow();
    await annaClient.crm.deals.update(annas.id, { title: 'Anna only (seen)' });
    await annaClient.syncNow();
    await annaClient.stop();
    await anna.crm.close();

    const ben = await deviceCrm({ user: 'ben', seed: 72, inner });
    const started = await createSyncClient({ crm: ben.crm, transport: faultyTransport(server, 'ben').transport, start: false }).then(
      async (client) => {
        await client.syncNow().catch(() => undefined);
        return true;
      },
      () => false,
    );
    if (started) expect((await ben.crm.deals.list()).items.map((d) => d.title)).toEqual([]);
  });
});
