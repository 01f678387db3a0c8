import { describe, expect, it } from 'vitest';
import { createCommandIds } from '@crmkit/core/storage';
import { exitTag } from '../../src/protocol/exit-tag.js';
import type { PullResponse } from '../../src/protocol/messages.js';
import { ADAPTERS, device, post, pullAll, serverOf } from './support.js';

const rowsOf = (pages: readonly PullResponse[], entity: string) => pages.flatMap((p) => p.rows.filter((r) => r.entity === entity).map((r) => r.row as { id: string } & Record<string, unknown>));

for (const [adapter, makeStorage] of ADAPTERS) {
  describe(`sync server push and pull (${adapter})`, () => {
    it('a pushed create is applied once with the device id and derived ids; a new device pulls it in a reset, then only changes', async () => {
      const { server, crm, pipeline } = await serverOf(makeStorage);
      const anna = device(1);
      const dealId = anna.id('deal');
      const create = anna.command('deals.create', [{ id: dealId, title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } }]);
      const pushed = await post(server, 'push', anna.push([create]));
      expect(pushed.status).toBe(200);
      expect(pushed.body).toEqual({ protocol: 1, lastSeq: 1, results: [{ seq: 1, status: 'applied' }] });
      const deal = await crm.deals.get(dealId);
      expect(deal.version).toBe(1);
      // Derived ids come from the command's (at, seed): the device computes the same ones.
      const expected = createCommandIds(create.at, create.seed);
      const derived = new Set([expected('stageVisit'), expected('task'), expected('task'), expected('stageVisit')]);
      const { items: taskList } = await crm.tasks.list({ where: { op: 'eq', field: 'dealId', value: dealId } as never });
      expect(taskList.map((t) => derived.has(t.id))).toEqual([true]);

      const first = await pullAll(server, anna, null);
      expect(first[0]).toMatchObject({ reset: 'begin', resetDone: true, hasMore: false, gone: [], client: { lastSeq: 1, rejected: [] } });
      expect(rowsOf(first, 'deal').map((r) => r.id)).toEqual([dealId]);
      expect(rowsOf(first, 'task').map((r) => r.id)).toEqual([taskList[0]!.id]);
      expect(rowsOf(first, 'pipeline').map((r) => r.id)).toEqual([pipeline.id]);
      const checkpoint = first.at(-1)!.checkpoint;
      const idle = await pullAll(server, anna, checkpoint);
      expect(idle).toMatchObject([{ rows: [], gone: [], hasMore: false }]);
      expect(idle[0]!.reset).toBeUndefined();

      await crm.deals.advance(dealId);
      const moved = await pullAll(server, anna, checkpoint);
      expect(rowsOf(moved, 'deal')).toMatchObject([{ id: dealId, stageKey: 'proposal', version: 2 }]);
      await crm.deals.remove(dealId);
      const removed = await pullAll(server, anna, moved.at(-1)!.checkpoint);
      expect(rowsOf(removed, 'deal')).toEqual([]);
      expect(removed[0]!.gone).toContain(await exitTag('acme', 'deal', dealId));
    });

    it('exactly once: a retried push answers the recorded verdicts and applies nothing again; concurrent duplicates apply once', async () => {
      const { server, crm, storage, pipeline } = await serverOf(makeStorage);
      const anna = device(2);
      const dealId = anna.id('deal');
      const commands = [
        anna.command('deals.create', [{ id: dealId, title: 'Acme', pipelineId: pipeline.id }]),
        anna.command('deals.postpone', [dealId, { until: '2026-02-01T09:00:00.000Z' }]),
        anna.command('deals.lose', [dealId, { reason: 'price', version: 3 }]), // a version the deal never had (2 after the postpone; version 1 would apply: only this client wrote since, §25)
        anna.command('activities.log', [{ id: anna.id('act'), kind: 'note', dealId, body: 'Called' }]),
      ];
      const first = await post(server, 'push', anna.push(commands));
      expect(first.body.results.map((r) => r.status)).toEqual(['applied', 'applied', 'rejected', 'applied']);
      expect(first.body.results[2]).toMatchObject({ error: { code: 'CONFLICT' } });
      const events = async () => (await storage.transaction('r', (tx) => tx.query('event', 'acme', { sort: [{ field: 'id' }] }))).rows.length;
      const before = { deal: await crm.deals.get(dealId), events: await events() };
      const again = await post(server, 'push', anna.push(commands));
      expect(again.body).toEqual(first.body);
      const twice = await Promise.all([post(server, 'push', anna.push(commands.slice(1))), post(server, 'push', anna.push(commands.slice(2)))]);
      expect(twice.map((t) => t.body.lastSeq)).toEqual([4, 4]);
      expect({ deal: await crm.deals.get(dealId), events: await events() }).toEqual(before);
      expect(before.deal).toMatchObject({ postponeCount: 1, status: 'open', version: 2 });
      const { items } = await crm.activities.list({ where: { op: 'eq', field: 'dealId', value: dealId } as never });
      expect(items).toHaveLength(1);
      // The pull reports the verdicts too (a lost push response loses nothing); an ack forgets the rejection.
      const pulled = await pullAll(server, anna, null);
      expect(pulled[0]!.client).toMatchObject({ lastSeq: 4, rejected: [{ seq: 3, error: { code: 'CONFLICT' } }] });
      const next = anna.command('deals.update', [dealId, { title: 'Acme 2' }]);
      const acked = await post(server, 'push', anna.push([next], { ackRejectedThrough: 3 }));
      expect(acked.body).toMatchObject({ lastSeq: 5, results: [{ seq: 5, status: 'applied' }] });
      expect((await pullAll(server, anna, null))[0]!.client).toEqual({ lastSeq: 5, rejected: [] });
    });

    it('a seq past lastSeq + 1 is a 409 sequence_gap naming the expected seq; nothing runs', async () => {
      const { server, crm } = await serverOf(makeStorage);
      const anna = device(3);
      anna.command('contacts.create', [{ id: anna.id('ctc'), name: 'Lost' }]);
      const gap = await post(server, 'push', anna.push([anna.command('contacts.create', [{ id: anna.id('ctc'), name: 'Ada' }])]));
      expect(gap.status).toBe(409);
      expect(gap.body.details.issues).toMatchObject([{ path: ['commands', 0, 'seq'], code: 'sequence_gap', expected: 1 }]);
      expect((await crm.contacts.list()).items).toEqual([]);
    });

    it('a page never splits a server transaction; small pages resume from the checkpoint and end equal', async () => {
      const { server, crm, pipeline } = await serverOf(makeStorage);
      const anna = device(4);
      for (let i = 0; i < 5; i++) await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id, nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } });
      const whole = await pullAll(server, anna, null);
      const paged = await pullAll(server, anna, null, 'anna', 1);
      expect(paged.length).toBeGreaterThan(5);
      const ids = (pages: typeof whole) => pages.flatMap((p) => p.rows.map((r) => `${r.entity}:${r.row.id as string}`)).sort();
      expect(ids(paged)).toEqual(ids(whole));
      // Each deal arrives with its task and stage visit (written in one transaction).
      for (const page of paged.filter((p) => p.rows.some((r) => r.entity === 'deal'))) expect(page.rows.map((r) => r.entity).sort()).toEqual(['deal', 'stageVisit', 'task']);
      expect(paged.slice(0, -1).every((p) => p.reset && !p.resetDone)).toBe(true);
      expect(paged.at(-1)!.resetDone).toBe(true);
    });

    it('a transaction some of whose rows were rewritten since still arrives whole: pages end at the next transaction by position (no tx index)', async () => {
      const { server, crm, pipeline, storage } = await serverOf(makeStorage);
      const anna = device(6);
      const deals = [];
      for (let i = 0; i < 6; i++) deals.push(await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id, nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } }));
      // Each rename moves one deal's row to a later position: its creating transaction keeps a gap.
      for (const i of [0, 2, 3]) await crm.deals.update(deals[i]!.id, { title: `D${i}'` });
      const txOf = new Map((await storage.transaction('r', (tx) => tx.query('syncChange', 'acme', {}))).rows.map((r) => [r.id, (r as unknown as { txPosition: number }).txPosition]));
      for (const limit of [1, 2]) {
        const paged = await pullAll(server, anna, null, 'anna', limit);
        const pageOf = new Map(paged.flatMap((p, n) => p.rows.map((r) => [`${r.entity}:${r.row.id as string}`, n] as const)));
        const pagesOfTx = new Map<number, Set<number>>();
        for (const [key, n] of pageOf) pagesOfTx.set(txOf.get(key)!, (pagesOfTx.get(txOf.get(key)!) ?? new Set()).add(n));
        expect([...pagesOfTx.values()].every((pages) => pages.size === 1)).toBe(true);
        expect(pageOf.size).toBe(txOf.size);
      }
    });

    it('prune drops old tombstones and moves the horizon: an older checkpoint pulls a reset', async () => {
      const { server, crm, clock } = await serverOf(makeStorage);
      const anna = device(5);
      const ada = await crm.contacts.create({ name: 'Ada' });
      const old = (await pullAll(server, anna, null)).at(-1)!.checkpoint;
      await crm.contacts.remove(ada.id);
      clock.advance(86_400_000);
      expect(await server.prune({ before: new Date(clock.now()).toISOString() })).toMatchObject({ tombstones: 1 });
      const after = await pullAll(server, anna, old);
      expect(after[0]).toMatchObject({ reset: 'begin', resetDone: true });
    });
  });
}

describe('sync server backfill', () => {
  it('records written before syncChanges() was installed are pulled', async () => {
    const [, makeStorage] = ADAPTERS[0]!;
    const storage = makeStorage();
    const { createCrm, silentLogger } = await import('@crmkit/core');
    const plain = await createCrm({ storage, tenantId: 'acme', logger: silentLogger, closeStorage: false });
    const ada = await plain.contacts.create({ name: 'Ada' });
    await plain.close();
    const { server } = await serverOf(makeStorage, { storage });
    const pages = await pullAll(server, device(6), null);
    expect(rowsOf(pages, 'contact').map((r) => r.id)).toEqual([ada.id]);
  });
});
