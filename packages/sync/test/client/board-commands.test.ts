import { createMemoryStorage, isCrmError } from '@crmkit/core';
import { observers } from '@crmkit/core/observe';
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { deviceCrmWith, faultyTransport, own, syncedRows } from './support.js';

const settle = () => new Promise((r) => setTimeout(r, 20));

async function setup() {
  const srv = await serverOf(() => createMemoryStorage());
  const make = (title: string) => srv.crm.deals.create({ title, pipelineId: srv.pipeline.id, ownerId: 'anna' });
  const deals = { a: await make('A'), b: await make('B'), c: await make('C'), d: await make('D') };
  const dev = await deviceCrmWith({ user: 'anna', seed: 31 }, [observers()] as const);
  const net = faultyTransport(srv.server, 'anna');
  const client = await createSyncClient({ crm: dev.crm, transport: net.transport, start: false });
  await client.syncNow();
  const board = client.crm.observe.board(srv.pipeline.id, { includeClosed: true });
  board.subscribe(() => {});
  await expect.poll(() => board.getSnapshot().data).toBeDefined();
  const stageOf = (id: string) => board.getSnapshot().data!.columns.find((c) => c.deals.some((d) => d.id === id))?.stage.key;
  return { ...srv, deals, dev, net, client, board, stageOf };
}

describe('board observer actions on a device (client.crm.observe)', () => {
  it('move, advance, postpone, lose and win become commands: applied at once offline, pushed on reconnect, converged', async () => {
    const { crm: server, storage, deals, dev, net, client, board, stageOf } = await setup();
    net.faults.online = false;
    expect(await board.move(deals.a.id, 'proposal')).toEqual({ ok: true });
    expect(await board.advance(deals.b.id)).toEqual({ ok: true });
    expect(await board.postpone(deals.c.id, '2026-01-09T10:00:00.000Z', 'trade fair')).toEqual({ ok: true });
    expect(await board.lose(deals.d.id, 'price')).toEqual({ ok: true });
    expect(await board.win(deals.a.id)).toEqual({ ok: true });
    await settle();

    // On the device at once: the board and the device's rows show them, five commands wait.
    expect(stageOf(deals.a.id)).toBe('won');
    expect(stageOf(deals.b.id)).toBe('proposal');
    expect(stageOf(deals.d.id)).toBe('lost');
    expect(board.getSnapshot().data!.pending).toEqual([]);
    expect(board.getSnapshot().data!.lastError).toBeUndefined();
    expect((await dev.crm.deals.get(deals.c.id)).postponeCount).toBe(1);
    expect((await own(dev.inner, 'syncCommand')).map((r) => r.name)).toEqual(['deals.advance', 'deals.advance', 'deals.postpone', 'deals.lose', 'deals.win']);
    await expect(client.syncNow()).rejects.toMatchObject({ code: 'STORAGE' });
    expect(client.status()).toMatchObject({ state: 'offline', pending: 5, unpushed: 5 });
    expect((await server.deals.get(deals.a.id)).stageKey).toBe('new');

    net.faults.online = true;
    await client.syncNow();
    expect(client.status()).toMatchObject({ pending: 0, unpushed: 0, rejected: [], errors: [] });
    expect((await server.deals.get(deals.a.id)).status).toBe('won');
    expect((await server.deals.get(deals.b.id)).stageKey).toBe('proposal');
    expect((await server.deals.get(deals.c.id)).postponeCount).toBe(1);
    expect((await server.deals.get(deals.d.id)).status).toBe('lost');
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(storage));
  });

  it('a move the server refuses comes back as a rejection; the board shows the server state', async () => {
    const { crm: server, deals, net, client, board, stageOf } = await setup();
    net.faults.online = false;
    expect(await board.lose(deals.a.id, 'price')).toEqual({ ok: true });
    await settle();
    expect(stageOf(deals.a.id)).toBe('lost');
    await server.deals.win(deals.a.id); // meanwhile, at the office
    net.faults.online = true;
    await client.syncNow();
    await settle();
    expect(client.status().rejected).toMatchObject([{ name: 'deals.lose', error: { code: 'CONFLICT' } }]);
    expect(stageOf(deals.a.id)).toBe('won');
  });

  it('a move the device refuses (a stage rule) rolls the board back and queues nothing', async () => {
    const { crm: server, dev, net, client } = await setup();
    const ruled = await server.pipelines.create({ name: 'Ruled', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal', entryRules: [{ type: 'hasContact', message: 'Add a contact' }] }] });
    const bare = await server.deals.create({ title: 'Bare', pipelineId: ruled.id, ownerId: 'anna' });
    await client.syncNow();
    const board = client.crm.observe.board(ruled.id);
    board.subscribe(() => {});
    await expect.poll(() => board.getSnapshot().data?.columns.some((c) => c.deals.some((d) => d.id === bare.id))).toBe(true);
    net.faults.online = false;
    const result = await board.move(bare.id, 'proposal');
    expect(result.ok).toBe(false);
    expect(!result.ok && isCrmError(result.error, 'RULE_VIOLATION')).toBe(true);
    expect(board.getSnapshot().data!.lastError).toMatchObject({ dealId: bare.id, action: 'move' });
    expect(await own(dev.inner, 'syncCommand')).toEqual([]);
    expect(client.status()).toMatchObject({ pending: 0 });
  });

  it('the device crm itself keeps its own observers (reads only: its writes of synced data stay refused)', async () => {
    const { deals, dev, client, pipeline } = await setup();
    expect(client.crm.observe).not.toBe(dev.crm.observe);
    expect(client.crm.observe).toBe(client.crm.observe);
    const direct = dev.crm.observe.board(pipeline.id);
    direct.subscribe(() => {});
    await expect.poll(() => direct.getSnapshot().data).toBeDefined();
    const result = await direct.move(deals.a.id, 'proposal');
    expect(!result.ok && isCrmError(result.error, 'VALIDATION') && JSON.stringify(result.error.details)).toContain('sync_local_write');
    expect(await own(dev.inner, 'syncCommand')).toEqual([]);
  });
});
