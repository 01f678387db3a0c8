import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { observers } from '@crmkit/core/observe';
import { createSyncClient } from '../../src/index.js';
import { deviceCrmWith, faultyTransport, own, syncedDevice, syncedRows } from './support.js';

async function setup() {
  const srv = await serverOf(() => createMemoryStorage());
  const deal = await srv.crm.deals.create({ title: 'Acme', pipelineId: srv.pipeline.id, ownerId: 'anna' });
  const dev = await syncedDevice(srv.server, { user: 'anna', seed: 21 });
  await dev.client.syncNow();
  return { ...srv, deal, dev };
}

const tasksOf = async (crm: { tasks: { list(o: object): Promise<{ items: { id: string; dealId?: string }[] }> } }, dealId: string) =>
  (await crm.tasks.list({ where: { op: 'eq', field: 'dealId', value: dealId } })).items.map((t) => t.id);

describe('device rebase (design sync.md §8)', () => {
  it('pending commands are replayed onto a newly pulled base with the same derived ids; confirmed ones leave with their shadows', async () => {
    const { crm: server, storage, deal, dev } = await setup();
    await server.deals.update(deal.id, { ownerId: 'ben' }); // the base moves under the device's pending rename
    let created = '';
    let firstTasks: string[] = [];
    dev.faults.beforePull = async () => {
      await dev.client.crm.deals.update(deal.id, { title: 'Acme (device)' });
      created = (await dev.client.crm.deals.create({ title: 'New on device', pipelineId: deal.pipelineId, nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } })).id;
      firstTasks = await tasksOf(dev.crm as never, created);
    };
    await dev.client.syncNow();
    expect(await dev.crm.deals.get(deal.id)).toMatchObject({ title: 'Acme (device)', ownerId: 'ben', version: 3 });
    expect(firstTasks).toHaveLength(1);
    expect(await tasksOf(dev.crm as never, created)).toEqual(firstTasks); // replayed with its own (at, seed)
    expect((await own(dev.inner, 'syncShadow')).map((s) => s.id)).toContain(`deal:${deal.id}`);
    expect(dev.client.status()).toMatchObject({ pending: 2, unpushed: 2 });

    await dev.client.syncNow();
    expect(await tasksOf(server as never, created)).toEqual(firstTasks); // the server derived the same ids
    expect(await server.deals.get(deal.id)).toMatchObject({ title: 'Acme (device)', ownerId: 'ben', version: 3 });
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    expect(await own(dev.inner, 'syncShadow')).toEqual([]);
    expect(await own(dev.inner, 'syncCommand')).toEqual([]);
    expect(dev.client.status()).toMatchObject({ pending: 0, unpushed: 0 });
  });

  it('a rejection drops the optimistic effect right after the push, keeps the verdict, and later commands stand', async () => {
    const { crm: server, storage, deal, dev, clock } = await setup();
    await server.deals.advance(deal.id); // the device still sees stage "new" at version 1
    dev.faults.blocked = 'pull';
    await dev.client.crm.deals.lose(deal.id, { reason: 'price' });
    // A minute later on both clocks: the note is newer than the deal's last activity (it touches the deal).
    clock.advance(60_000);
    dev.clock.advance(60_000);
    const note = await dev.client.crm.activities.log({ kind: 'note', dealId: deal.id, body: 'Lost on price' });
    expect((await dev.crm.deals.get(deal.id)).status).toBe('lost');
    await expect(dev.client.syncNow()).rejects.toMatchObject({ code: 'STORAGE' });
    // The pull failed, yet the lose is gone already (the base: stage "new", version 1); the accepted note stays (replayed: it touches the deal, version 2).
    expect(await dev.crm.deals.get(deal.id)).toMatchObject({ stageKey: 'new', status: 'open', version: 2 });
    expect((await dev.crm.activities.get(note.id)).body).toBe('Lost on price');
    expect(dev.client.status()).toMatchObject({ pending: 1, unpushed: 0, rejected: [{ seq: 1, name: 'deals.lose', error: { code: 'CONFLICT' } }] });
    const events = await storage.transaction('r', (tx) => tx.query('event', 'acme', {}));
    expect(events.rows.filter((e) => e.type === 'deal.lost')).toEqual([]);

    dev.faults.blocked = undefined;
    await dev.client.syncNow();
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
    expect(dev.client.status()).toMatchObject({ pending: 0, rejected: [{ seq: 1, error: { code: 'CONFLICT' } }] });
    expect((await own(dev.inner, 'syncCommand')).map((c) => c.id)).toEqual(['c1']);
    // The verdict survives until dismissed, also across later cycles (the server forgot it after the ack).
    await dev.client.syncNow();
    expect(dev.client.status().rejected).toHaveLength(1);
  });

  it('a command the device refuses throws and records nothing', async () => {
    const { deal, dev } = await setup();
    await expect(dev.client.crm.deals.advance(deal.id, { toStage: 'nope' })).rejects.toMatchObject({ code: 'RULE_VIOLATION' });
    await expect(dev.client.crm.deals.advance('missing-id')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await own(dev.inner, 'syncCommand')).toEqual([]);
    expect(await own(dev.inner, 'syncShadow')).toEqual([]);
    const next = await dev.client.execute('deals.advance', deal.id);
    expect(next.seq).toBe(1); // the refused ones took no seq
  });
});

describe('what a device reports while syncing', () => {
  it('crm.on hears a command once, when it runs; pulls and replays are silent; a rebase reaches observers as one change batch', async () => {
    const { crm: server, deal, dev } = await setup();
    const heard: string[] = [];
    dev.crm.on('*', (event) => void heard.push(event.type));
    const batches: string[][] = [];
    dev.replica.onChange((batch) => batches.push([...new Set(batch.changes.map((c) => c.entity))]));
    await server.deals.advance(deal.id);
    dev.faults.blocked = 'pull';
    await dev.client.crm.deals.lose(deal.id, { reason: 'price' });
    await dev.client.crm.activities.log({ kind: 'note', dealId: deal.id, body: 'Lost on price' });
    const ran = [...heard];
    expect(ran).toEqual(expect.arrayContaining(['deal.lost', 'activity.logged']));
    batches.length = 0;
    await expect(dev.client.syncNow()).rejects.toMatchObject({ code: 'STORAGE' });
    // The push's verdicts (log and state only), then the rebase: restore + replay of the note, held into one batch.
    expect(batches.filter((b) => b.includes('deal'))).toHaveLength(1);
    dev.faults.blocked = undefined;
    await dev.client.syncNow();
    await new Promise((r) => setTimeout(r, 10));
    expect(heard).toEqual(ran);
  });
});

describe('observers on a device', () => {
  it('see pulled rows and optimistic commands, and the rollback of a rejected one', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const deal = await srv.crm.deals.create({ title: 'Acme', pipelineId: srv.pipeline.id });
    const dev = await deviceCrmWith({ user: 'anna', seed: 24 }, [observers()] as const);
    const net = faultyTransport(srv.server, 'anna');
    const client = await createSyncClient({ crm: dev.crm, transport: net.transport, start: false });
    await client.syncNow();
    const observer = dev.crm.observe.deal(deal.id);
    const stages: string[] = [];
    const settle = () => new Promise((r) => setTimeout(r, 20));
    observer.subscribe(() => {
      const data = observer.getSnapshot().data;
      if (data && stages.at(-1) !== data.stageKey) stages.push(data.stageKey);
    });
    await settle();
    await srv.crm.deals.advance(deal.id); // → proposal on the server
    await client.syncNow();
    await settle();
    net.faults.online = false;
    await client.crm.deals.lose(deal.id, { reason: 'price' }); // optimistic, against the pulled version
    await settle();
    await srv.crm.deals.advance(deal.id, { toStage: 'won' }).catch(() => srv.crm.deals.win(deal.id));
    net.faults.online = true;
    await client.syncNow(); // the lose is rejected: the observer shows the server's stage
    await settle();
    // The rejection rolls back to the base at once (proposal), then the pull brings the server's stage.
    expect(stages).toEqual(['new', 'proposal', 'lost', 'proposal', 'won']);
    expect(client.status().rejected).toMatchObject([{ name: 'deals.lose', error: { code: 'CONFLICT' } }]);
  });
});
