import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { scopedServer } from '../server/scope-support.js';
import { heldTags, own, syncedDevice, syncedRows } from './support.js';

type Server = Awaited<ReturnType<typeof scopedServer>>;

/** What the server projects for `user` now: the rows of a new device after its first sync. */
async function projection(srv: Server, user: string, seed: number) {
  const fresh = await syncedDevice(srv.server, { user, seed });
  await fresh.client.syncNow();
  return syncedRows(fresh.inner);
}

describe('scope exits on the device (design sync.md §7, §8; test 4, device side)', () => {
  it('a deal reassigned Anna → Ben leaves Anna\'s device with its note (tags resolved), arrives on Ben\'s; Anna\'s pending change of it is rejected and leaves no trace', async () => {
    const srv = await scopedServer(() => createMemoryStorage());
    const deal = await srv.crm.deals.create({ title: 'Acme', pipelineId: srv.pipeline.id, ownerId: 'anna', nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } });
    const note = await srv.crm.activities.log({ kind: 'note', dealId: deal.id, body: 'Met' });
    const anna = await syncedDevice(srv.server, { user: 'anna', seed: 61 });
    const ben = await syncedDevice(srv.server, { user: 'ben', seed: 62 });
    await anna.client.syncNow();
    await ben.client.syncNow();
    expect((await anna.crm.deals.get(deal.id)).title).toBe('Acme');
    await expect(ben.crm.deals.get(deal.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    anna.faults.online = false;
    await anna.client.crm.deals.update(deal.id, { title: 'Acme (Anna)' });
    await srv.crm.deals.update(deal.id, { ownerId: 'ben' });
    anna.faults.online = true;
    await anna.client.syncNow();
    await ben.client.syncNow();

    await expect(anna.crm.deals.get(deal.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(anna.crm.activities.get(note.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(anna.client.status().rejected).toMatchObject([{ seq: 1, name: 'deals.update' }]);
    expect((await ben.crm.deals.get(deal.id)).title).toBe('Acme');
    expect(await syncedRows(anna.inner)).toEqual(await projection(srv, 'anna', 63));
    expect(await syncedRows(ben.inner)).toEqual(await projection(srv, 'ben', 64));
    expect(await own(anna.inner, 'syncShadow')).toEqual([]);
    // Tags of records that left are gone too.
    const tags = await heldTags(anna.inner);
    expect(tags.map((t) => t.recordId)).not.toContain(deal.id);
  });

  it('a policy change resets the pull: the device sweeps what it may no longer read and gets what it now may, projected', async () => {
    const srv = await scopedServer(() => createMemoryStorage());
    const mine = await srv.crm.deals.create({ title: 'Mine', pipelineId: srv.pipeline.id, ownerId: 'anna' });
    const note = await srv.crm.activities.log({ kind: 'note', dealId: mine.id, body: 'Met' });
    const bens = await srv.crm.deals.create({ title: 'Ben\'s', pipelineId: srv.pipeline.id, ownerId: 'ben' });
    const anna = await syncedDevice(srv.server, { user: 'anna', seed: 65, pageRows: 2 });
    await anna.client.syncNow();
    expect(anna.client.status().initialSync).toMatchObject({ done: true });
    expect((await anna.crm.activities.get(note.id)).body).toBe('Met');

    // Reps now read every deal without its value, and no activities.
    await srv.crm.access.setPolicy({
      roles: { rep: { grants: { deal: { read: 'all', '*': 'own' }, contact: { '*': 'own' }, task: { '*': 'own' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['value', 'weightedValue'] } } } } },
      defaultRoles: ['rep'],
    } as never);
    await anna.client.syncNow();
    await expect(anna.crm.activities.get(note.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await anna.crm.deals.get(bens.id)).title).toBe('Ben\'s');
    expect(await syncedRows(anna.inner)).toEqual(await projection(srv, 'anna', 66));
    expect(await heldTags(anna.inner)).toHaveLength(Object.values(await syncedRows(anna.inner)).flat().length);
  });
});
