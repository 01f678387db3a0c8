import { createMemoryStorage, isCrmError } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from '../client/support.js';
import { createSyncClient } from '../../src/index.js';

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

describe('review13: createSyncClient options', () => {
  it('pageRows outside 1–2000 and a pollMs that is not a positive number are refused at once (not a 400/413 on every pull)', async () => {
    const { server: sync } = await serverOf(() => createMemoryStorage());
    for (const [i, bad] of [{ pageRows: 0 }, { pageRows: 5000 }, { pageRows: 1.5 }, { pollMs: 0 }, { pollMs: -1 }].entries()) {
      const dev = await syncedDevice(sync, { user: 'anna', seed: 20 + i });
      const error = await createSyncClient({ crm: dev.crm, transport: dev.transport, start: false, ...bad }).catch((e: unknown) => e);
      expect(error, JSON.stringify(bad)).toMatchObject({ code: 'VALIDATION' });
    }
  });
});
