import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from '../client/support.js';

/** review13: a server that lowers its limits (docs/sync.md "Limits") must still serve devices with default options. */
describe('review13: server limits vs the client', () => {
  it('a server with limits.pageRows 200 serves a device with default options (the client sends limit 500 → 413 forever)', async () => {
    const { crm, server: sync, pipeline } = await serverOf(() => createMemoryStorage(), { server: { limits: { pageRows: 200 } } });
    await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 1 });
    await anna.client.syncNow();
    expect((await anna.crm.deals.list()).items.map((d) => d.title)).toEqual(['Acme']);
  });

  it('a server with limits.commands 10 takes 15 offline commands (the client sends 100 per push → 413 forever)', async () => {
    const { crm, server: sync, pipeline } = await serverOf(() => createMemoryStorage(), { server: { limits: { commands: 10 } } });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 2 });
    await anna.client.syncNow();
    for (let i = 0; i < 15; i++) await anna.client.crm.deals.create({ title: `Deal ${i}`, pipelineId: pipeline.id });
    await anna.client.syncNow();
    expect((await crm.deals.list({ limit: 100 })).items).toHaveLength(15);
  });

  it('60 offline notes of 20 000 characters (each valid) reach the server (one push is 1.2 MB > bodyBytes → 413 forever, nothing ever syncs)', async () => {
    const { crm, server: sync, pipeline } = await serverOf(() => createMemoryStorage());
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 3 });
    await anna.client.syncNow();
    for (let i = 0; i < 60; i++) await anna.client.crm.activities.log({ kind: 'note', dealId: deal.id, body: `${i} ${'x'.repeat(19_990)}` });
    await anna.client.syncNow();
    expect((await crm.activities.list({ limit: 100 })).items).toHaveLength(60);
  });

  it('a push the server refuses as a whole does not stop the device from pulling the server\'s changes', async () => {
    const { crm, server: sync, pipeline } = await serverOf(() => createMemoryStorage(), { server: { limits: { bodyBytes: 50_000 } } });
    const anna = await syncedDevice(sync, { user: 'anna', seed: 4 });
    await anna.client.syncNow();
    await anna.client.crm.deals.create({ title: 'x'.repeat(200), pipelineId: pipeline.id, notes: undefined } as never);
    for (let i = 0; i < 5; i++) await anna.client.crm.activities.log({ kind: 'note', body: 'y'.repeat(19_000) } as never);
    const fresh = await crm.deals.create({ title: 'Created at the office', pipelineId: pipeline.id });
    await anna.client.syncNow().catch(() => undefined); // the push gets 413
    expect((await anna.crm.deals.list()).items.map((d) => d.id)).toContain(fresh.id);
  });
});
