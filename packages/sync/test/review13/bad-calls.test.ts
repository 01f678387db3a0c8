import { createMemoryStorage, isCrmError } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from '../client/support.js';

/** review13: bad input to the device API gets a CrmError, like the server's. */
describe('review13: client.execute with bad input', () => {
  it('an unknown command name is a CrmError VALIDATION, not a TypeError', async () => {
    const { server: sync } = await serverOf(() => createMemoryStorage());
    const anna = await syncedDevice(sync, { user: 'anna', seed: 1 });
    const error = await anna.client.execute('deals.merge' as never, {}).catch((e: unknown) => e);
    expect(isCrmError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'VALIDATION' });
  });

  it('leads.create(input, {}) — the documented options object — is accepted (an empty options bag is not an arity error)', async () => {
    const { server: sync } = await serverOf(() => createMemoryStorage());
    const anna = await syncedDevice(sync, { user: 'anna', seed: 2 });
    const lead = await anna.client.crm.leads.create({ name: 'Bolt GmbH' } as never, {});
    expect(lead).toMatchObject({ id: expect.stringMatching(/^lead_/) });
  });
});

describe('review13: optional arguments passed as undefined', () => {
  it('client.crm.deals.advance(id, undefined) works like crm.deals.advance(id, undefined) (JSON turns it into null)', async () => {
    const { crm, server: sync, pipeline } = await serverOf(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 3 });
    await anna.client.syncNow();
    const forward = (options?: { toStage?: string }) => anna.client.crm.deals.advance(deal.id, options);
    expect((await forward()).stageKey).toBe('proposal');
  });
});
