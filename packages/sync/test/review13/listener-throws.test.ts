import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from '../client/support.js';

/**
 * review13: a status listener that throws (a UI bug) must not turn a recorded command into a failed call —
 * the user would redo it and the server would get it twice.
 */
describe('review13: a throwing status listener', () => {
  it('does not make client.crm.* reject after the command was recorded, nor fail a sync cycle', async () => {
    const { crm, server: sync, pipeline } = await serverOf(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 61 });
    await anna.client.syncNow();
    anna.client.subscribe(() => {
      throw new Error('UI bug');
    });
    const outcome = await anna.client.crm.activities.log({ kind: 'call', dealId: deal.id, body: 'Called' } as never).then(() => 'ok', (e: unknown) => (e as Error).message);
    const pending = anna.client.status().pending;
    expect({ outcome, pending }).toEqual({ outcome: 'ok', pending: 1 });
    await anna.client.syncNow();
    expect((await crm.activities.list()).items).toHaveLength(1);
  });
});
