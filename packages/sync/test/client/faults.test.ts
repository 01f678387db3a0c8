import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { fakeIndexedDb } from './idb-env.js';
import { crashingStorage, deviceCrm, faultyTransport, heldTags, own, syncedDevice, syncedRows } from './support.js';

async function setup() {
  const srv = await serverOf(() => createMemoryStorage());
  const deal = await srv.crm.deals.create({ title: 'Acme', pipelineId: srv.pipeline.id, ownerId: 'anna' });
  const dev = await syncedDevice(srv.server, { user: 'anna', seed: 31 });
  await dev.client.syncNow();
  return { ...srv, deal, dev };
}

/** Every activity and the deal's postpone count on the server: what "applied twice" would change. */
async function applied(server: Awaited<ReturnType<typeof setup>>['crm'], dealId: string) {
  const { items } = await server.activities.list({});
  return { activities: items.length, postponeCount: (await server.deals.get(dealId)).postponeCount ?? 0 };
}

async function offlineWork(dev: Awaited<ReturnType<typeof setup>>['dev'], dealId: string) {
  await dev.client.crm.activities.log({ kind: 'call', dealId, body: 'Called' });
  await dev.client.crm.deals.postpone(dealId, { until: '2026-02-01T09:00:00.000Z' });
  await dev.client.crm.activities.log({ kind: 'note', dealId, body: 'Will call back' });
}

describe('device sync with duplicated, reordered and lost messages', () => {
  it('a lost push answer: the retry gets the recorded verdicts, nothing is applied twice', async () => {
    const { crm, storage, deal, dev } = await setup();
    await offlineWork(dev, deal.id);
    dev.faults.loseResponses = 1;
    await expect(dev.client.syncNow()).rejects.toMatchObject({ code: 'STORAGE', details: { retryable: true } });
    expect(await applied(crm, deal.id)).toEqual({ activities: 2, postponeCount: 1 });
    expect(dev.client.status()).toMatchObject({ state: 'offline', unpushed: 3 });
    await dev.client.syncNow();
    expect(await applied(crm, deal.id)).toEqual({ activities: 2, postponeCount: 1 });
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    expect(await own(dev.inner, 'syncCommand')).toEqual([]);
  });

  it('a push sent twice by the network, and an old push replayed later (reordered): applied once', async () => {
    const { crm, storage, server, deal, dev } = await setup();
    await offlineWork(dev, deal.id);
    dev.faults.duplicate = 1;
    await dev.client.syncNow();
    const old = dev.faults.sent.find((m) => m.route === 'push')!;
    await dev.client.crm.deals.update(deal.id, { title: 'Later' });
    await dev.client.syncNow();
    const replayed = await server.handle(new Request('http://sync.test/sync/push', { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'anna' }, body: JSON.stringify(old.body) }));
    expect(replayed.status).toBe(200);
    await dev.client.syncNow();
    expect(await applied(crm, deal.id)).toEqual({ activities: 2, postponeCount: 1 });
    expect((await crm.deals.get(deal.id)).title).toBe('Later');
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
  });

  it('a lost pull answer is fetched again from the stored checkpoint; a stale page arriving late is caught up by the next cycle', async () => {
    const { crm, storage, deal, dev } = await setup();
    const stale = dev.faults.pulls.at(-1)!;
    await crm.deals.advance(deal.id);
    dev.faults.loseResponses = 1;
    await expect(dev.client.syncNow()).rejects.toMatchObject({ code: 'STORAGE' });
    await dev.client.syncNow();
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    await crm.deals.update(deal.id, { title: 'Renamed' });
    dev.faults.stalePull = stale; // an answer to an earlier request, delivered now
    await dev.client.syncNow();
    await dev.client.syncNow();
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
  });
});

for (const [engine, makeInner] of [['memory', () => createMemoryStorage()], ['IndexedDB (fake)', fakeIndexedDb]] as const) describe(`device crash during apply and rebase (design sync.md §13 test 3, device part; device on ${engine})`, () => {
  it('a crash before commit at any write of a cycle: reopened, the device rebases on start and converges, nothing applied twice', async () => {
    for (let n = 1; ; n++) {
      const srv = await serverOf(() => createMemoryStorage());
      const deal = await srv.crm.deals.create({ title: 'Acme', pipelineId: srv.pipeline.id, ownerId: 'anna' });
      const other = await srv.crm.deals.create({ title: 'Other', pipelineId: srv.pipeline.id, ownerId: 'anna' });
      const disk = crashingStorage(makeInner());
      const first = await deviceCrm({ user: 'anna', seed: 41, inner: disk.adapter });
      const net = faultyTransport(srv.server, 'anna');
      const client = await createSyncClient({ crm: first.crm, transport: net.transport, start: false, pageRows: 1 });
      await client.syncNow();
      // Pending work, server changes to pull (several pages), then a cycle that crashes at its n-th write.
      await offlineWorkOn(client, deal.id);
      await srv.crm.deals.advance(other.id);
      await srv.crm.deals.create({ title: 'Third', pipelineId: srv.pipeline.id, ownerId: 'anna' });
      disk.control.armedAt = n;
      disk.control.writes = 0;
      const crashed = await client.syncNow().then(() => false, () => true);
      disk.control.armedAt = 0;
      if (!crashed) {
        expect(n).toBeGreaterThan(20); // every write of the cycle (pushed verdicts, pages, tags, shadows, replays) crashed once
        return;
      }
      // Reopen: a new crm and client over the same stored data.
      const again = await deviceCrm({ user: 'anna', seed: 42, inner: disk.adapter });
      const reopened = await createSyncClient({ crm: again.crm, transport: faultyTransport(srv.server, 'anna').transport, start: false });
      await reopened.syncNow();
      expect(await syncedRows(disk.adapter), `crash at write ${n}`).toEqual(await syncedRows(srv.storage));
      expect(await own(disk.adapter, 'syncShadow')).toEqual([]);
      expect(await own(disk.adapter, 'syncCommand')).toEqual([]);
      expect(await applied(srv.crm, deal.id)).toEqual({ activities: 2, postponeCount: 1 });
    }
  });
});

async function offlineWorkOn(client: { crm: Awaited<ReturnType<typeof deviceCrm>>['crm'] }, dealId: string) {
  await client.crm.activities.log({ kind: 'call', dealId, body: 'Called' });
  await client.crm.deals.postpone(dealId, { until: '2026-02-01T09:00:00.000Z' });
  await client.crm.activities.log({ kind: 'note', dealId, body: 'Will call back' });
}

describe('an initial sync interrupted by a crash resumes from the stored checkpoint', () => {
  it('fetches fewer pages after the restart than a whole initial sync, and ends equal to the server', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    for (let i = 0; i < 6; i++) await srv.crm.deals.create({ title: `Deal ${i}`, pipelineId: srv.pipeline.id, nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } });
    const whole = await syncedDevice(srv.server, { user: 'anna', seed: 71, pageRows: 2 });
    await whole.client.syncNow();
    const total = whole.faults.pulls.length;
    expect(total).toBeGreaterThan(5);
    for (const n of [1, 7, 15, 22]) {
      const disk = crashingStorage(createMemoryStorage());
      const first = await deviceCrm({ user: 'anna', seed: 72, inner: disk.adapter });
      const client = await createSyncClient({ crm: first.crm, transport: faultyTransport(srv.server, 'anna').transport, start: false, pageRows: 2 });
      disk.control.armedAt = n;
      disk.control.writes = 0;
      await expect(client.syncNow()).rejects.toMatchObject({ code: 'STORAGE' });
      disk.control.armedAt = 0;
      const again = await deviceCrm({ user: 'anna', seed: 73, inner: disk.adapter });
      const net = faultyTransport(srv.server, 'anna');
      const resumed = await createSyncClient({ crm: again.crm, transport: net.transport, start: false, pageRows: 2 });
      await resumed.syncNow();
      // A crash in the first page's transaction starts over; later ones resume after the last stored page.
      if (n === 1) expect(net.faults.pulls.length).toBe(total);
      else expect(net.faults.pulls.length, `crash at write ${n}`).toBeLessThan(total);
      expect(await syncedRows(disk.adapter)).toEqual(await syncedRows(srv.storage));
      expect(await heldTags(disk.adapter)).toHaveLength(Object.values(await syncedRows(srv.storage)).flat().length);
    }
  });
});

describe('server-side failures seen by the device', () => {
  it('a server restored from an older backup (checkpoint ahead of its head): the device resets and equals it', async () => {
    const a = await serverOf(() => createMemoryStorage());
    for (let i = 0; i < 4; i++) await a.crm.deals.create({ title: `Old ${i}`, pipelineId: a.pipeline.id });
    const b = await serverOf(() => createMemoryStorage());
    await b.crm.deals.create({ title: 'Restored', pipelineId: b.pipeline.id });
    let current = faultyTransport(a.server, 'anna').transport;
    const dev = await deviceCrm({ user: 'anna', seed: 81 });
    const client = await createSyncClient({ crm: dev.crm, start: false, transport: { push: (x, s) => current.push(x, s), pull: (x, s) => current.pull(x, s) } });
    await client.syncNow();
    expect((await dev.crm.deals.list({})).items).toHaveLength(4);
    current = faultyTransport(b.server, 'anna').transport;
    await client.syncNow();
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(b.storage));
    expect(client.status()).toMatchObject({ state: 'idle', errors: [] });
  });

  it('a command the server cannot run (a failure, not a verdict) stays pending, is retried, and is shown stuck after 5 attempts', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const deal = await srv.crm.deals.create({ title: 'Acme', pipelineId: srv.pipeline.id });
    const inner = faultyTransport(srv.server, 'anna').transport;
    let failing = true;
    const dev = await deviceCrm({ user: 'anna', seed: 82 });
    const client = await createSyncClient({
      crm: dev.crm, start: false,
      transport: {
        push: async (body, s) => (failing ? { protocol: 1, lastSeq: body.commands[0]!.seq - 1, results: [], stopped: { seq: body.commands[0]!.seq, error: { name: 'CrmError', code: 'STORAGE', message: 'disk full', details: { adapter: 'sqlite', retryable: true } } } } : inner.push(body, s)),
        pull: (body, s) => inner.pull(body, s),
      },
    });
    await client.syncNow().catch(() => undefined); // pulls the deal: pushes nothing yet
    await client.crm.deals.advance(deal.id);
    for (let i = 1; i <= 5; i++) {
      await expect(client.syncNow()).rejects.toMatchObject({ code: 'STORAGE', message: 'disk full' });
      expect(client.status().errors).toMatchObject([{ code: 'STORAGE', seq: 1, ...(i === 5 ? { stuck: true } : {}) }]);
      if (i < 5) expect(client.status().errors[0]!.stuck).toBeUndefined();
    }
    expect(client.status()).toMatchObject({ state: 'error', pending: 1, unpushed: 1 });
    expect((await dev.crm.deals.get(deal.id)).stageKey).toBe('proposal');
    failing = false;
    await client.syncNow();
    expect(client.status()).toMatchObject({ state: 'idle', pending: 0, errors: [] });
    expect((await srv.crm.deals.get(deal.id)).stageKey).toBe('proposal');
  });
});

describe('a server that lost accepted commands', () => {
  it('answers sequence_gap: the device pushes the accepted commands it still holds again, then resets onto that server', async () => {
    const a = await serverOf(() => createMemoryStorage());
    const b = await serverOf(() => createMemoryStorage());
    const toA = faultyTransport(a.server, 'anna');
    let current = toA.transport;
    const dev = await deviceCrm({ user: 'anna', seed: 83 });
    const client = await createSyncClient({ crm: dev.crm, start: false, transport: { push: (x, s) => current.push(x, s), pull: (x, s) => current.pull(x, s) } });
    // B is A as it was before the device's commands (same seed and clock: the same pipeline).
    expect(b.pipeline).toEqual(a.pipeline);
    await client.syncNow();
    const created = await client.crm.deals.create({ title: 'On A', pipelineId: a.pipeline.id });
    toA.faults.blocked = 'pull';
    await expect(client.syncNow()).rejects.toMatchObject({ code: 'STORAGE' }); // pushed (accepted by A), not pulled
    expect(client.status()).toMatchObject({ pending: 1, unpushed: 0 });
    current = faultyTransport(b.server, 'anna').transport;
    await client.crm.deals.update(created.id, { title: 'On A, renamed' });
    await client.syncNow();
    expect((await b.crm.deals.get(created.id)).title).toBe('On A, renamed');
    expect(client.status()).toMatchObject({ pending: 0, unpushed: 0, errors: [], rejected: [] });
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(b.storage));
  });
});
