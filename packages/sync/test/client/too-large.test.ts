import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { syncedDevice } from './support.js';

/**
 * review13b notes / sync13k: one command alone over the server's body limit was refused with 413 on every
 * push (R1 halves batches down to one command, then stops): the queue behind it never moved.
 */
describe('a command too large for the server', () => {
  it('gets a typed rejection naming the limit, and the commands after it go through', async () => {
    const { crm, server, pipeline } = await serverOf(() => createMemoryStorage(), { server: { limits: { bodyBytes: 4_000 } } });
    const anna = await syncedDevice(server, { user: 'anna', seed: 161 });
    await anna.client.syncNow();
    anna.faults.online = false;
    const before = await anna.client.crm.deals.create({ title: 'Before', pipelineId: pipeline.id });
    const note = await anna.client.crm.activities.log({ kind: 'note', dealId: before.id, body: 'я'.repeat(5_000) } as never);
    const after = await anna.client.crm.deals.create({ title: 'After', pipelineId: pipeline.id });
    anna.faults.online = true;
    await anna.client.syncNow();
    const { rejected } = anna.client.status();
    expect(rejected.map((r) => r.name)).toEqual(['activities.log']);
    expect(rejected[0]!.error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'too_large', limit: 4_000, path: ['args'] }] } });
    expect((rejected[0]!.error.details as unknown as { issues: { bytes: number }[] }).issues[0]!.bytes).toBeGreaterThan(10_000);
    expect(anna.client.status()).toMatchObject({ pending: 0, errors: [] });
    expect((await crm.deals.list()).items.map((d) => d.id).sort()).toEqual([before.id, after.id].sort());
    await expect(anna.client.crm.activities.get(note.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Later commands keep flowing under the same client id.
    await anna.client.crm.deals.update(after.id, { title: 'After (2)' });
    await anna.client.syncNow();
    expect((await crm.deals.get(after.id)).title).toBe('After (2)');
    expect(anna.client.status().renewed).toBeUndefined();
  });
});
