import { createMemoryStorage, isCrmError } from '@crmkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scopedServer } from '../server/scope-support.js';
import { serverOf } from '../server/support.js';
import { fakeIndexedDb } from './idb-env.js';
import { own, syncedDevice, syncedRows } from './support.js';

type Action =
  | { kind: 'device'; who: 0 | 1; op: 'advance' | 'postpone' | 'lose' | 'rename' | 'log' | 'create' | 'complete'; deal: number; day: number }
  | { kind: 'server'; op: 'rename' | 'advance' | 'reassign'; deal: number }
  | { kind: 'net'; who: 0 | 1; fault: 'offline' | 'online' | 'loseResponse' | 'duplicate' }
  | { kind: 'sync'; who: 0 | 1 };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('device' as const), who: fc.constantFrom(0 as const, 1 as const), op: fc.constantFrom('advance' as const, 'postpone' as const, 'lose' as const, 'rename' as const, 'log' as const, 'create' as const, 'complete' as const), deal: fc.nat(3), day: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('server' as const), op: fc.constantFrom('rename' as const, 'advance' as const, 'reassign' as const), deal: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('net' as const), who: fc.constantFrom(0 as const, 1 as const), fault: fc.constantFrom('offline' as const, 'online' as const, 'loseResponse' as const, 'duplicate' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), who: fc.constantFrom(0 as const, 1 as const) }) },
);

/**
 * Device side of design sync.md §13 test 2 (the full model-based test is WP5's): random commands on two
 * devices and the server, random disconnections, lost answers and duplicated requests. At quiescence every
 * device equals the server, holds no shadow and no standing command, and every accepted postpone and
 * activity is on the server exactly once.
 */
for (const [scoped, idb] of [[false, false], [true, false], [true, true]] as const) describe(`device convergence under random commands and faults (${scoped ? 'reps see their own deals; reassignments move them' : 'no access rules'}; devices on ${idb ? 'IndexedDB (fake)' : 'memory'})`, () => {
  it('every device converges to the server; accepted commands applied exactly once; rejected ones leave no trace', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 60 }), async (actions) => {
        run++;
        const srv = scoped ? await scopedServer(() => createMemoryStorage()) : await serverOf(() => createMemoryStorage());
        const deals = [];
        for (let i = 0; i < 3; i++) deals.push((await srv.crm.deals.create({ title: `Deal ${i}`, pipelineId: srv.pipeline.id, ownerId: 'anna', nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } })).id);
        const inner = () => (idb ? { inner: fakeIndexedDb() } : {});
        const devices = [await syncedDevice(srv.server, { user: 'anna', seed: 1000 + run * 2, ...inner() }), await syncedDevice(srv.server, { user: 'ben', seed: 1001 + run * 2, ...inner() })];
        for (const d of devices) await d.client.syncNow();
        const executed: { who: number; seq: number; name: string }[] = [];
        for (const a of actions) {
          if (a.kind === 'sync') await devices[a.who]!.client.syncNow().catch(() => undefined);
          else if (a.kind === 'net') {
            const f = devices[a.who]!.faults;
            if (a.fault === 'offline') f.online = false;
            else if (a.fault === 'online') f.online = true;
            else if (a.fault === 'loseResponse') f.loseResponses = 1;
            else f.duplicate = 1;
          } else if (a.kind === 'server') {
            const id = deals[a.deal % deals.length]!;
            const owner = async () => ((await srv.crm.deals.get(id)).ownerId === 'anna' ? 'ben' : 'anna');
            const change = async () => (a.op === 'rename' ? srv.crm.deals.update(id, { title: `Server ${a.deal}` }) : a.op === 'advance' ? srv.crm.deals.advance(id) : srv.crm.deals.update(id, { ownerId: await owner() }));
            await change().catch((e: unknown) => {
              if (!isCrmError(e)) throw e;
            });
          } else {
            const d = devices[a.who]!;
            const ids = (await d.crm.deals.list({})).items.map((x) => x.id);
            const id = ids[a.deal % Math.max(1, ids.length)] ?? deals[0]!;
            const until = new Date(Date.parse('2026-02-01T09:00:00.000Z') + a.day * 86_400_000).toISOString();
            const task = (await d.crm.tasks.list({ where: { op: 'eq', field: 'status', value: 'open' } })).items[a.deal];
            const call: () => Promise<{ result: unknown; seq: number }> = {
              advance: () => d.client.execute('deals.advance', id),
              postpone: () => d.client.execute('deals.postpone', id, { until }),
              lose: () => d.client.execute('deals.lose', id, { reason: 'price' }),
              rename: () => d.client.execute('deals.update', id, { title: `Device ${a.who} ${a.day}` }),
              log: () => d.client.execute('activities.log', { kind: 'note', dealId: id, body: `Note ${a.day}` }),
              create: () => d.client.execute('deals.create', { title: `New ${a.day}`, pipelineId: srv.pipeline.id, nextStep: { subject: 'Call', dueAt: until } }),
              complete: () => (task ? d.client.execute('tasks.complete', task.id) : Promise.reject(new Error('no task'))),
            }[a.op];
            const done: { result: unknown; seq: number } | undefined = await call().catch((e: unknown) => {
              if (isCrmError(e) || (e as Error).message === 'no task') return undefined;
              throw e;
            });
            if (done) {
              executed.push({ who: a.who, seq: done.seq, name: a.op });
              if (a.op === 'create') deals.push((done.result as { id: string }).id);
            }
          }
        }
        for (const d of devices) Object.assign(d.faults, { online: true, loseResponses: 0, duplicate: 0 });
        for (let round = 0; round < 2; round++) for (const d of devices) await d.client.syncNow();
        const truth = await syncedRows(srv.storage);
        for (const [i, d] of devices.entries()) {
          // What the server projects for the device's user now: a new device's rows after its first sync.
          const fresh = scoped ? await syncedDevice(srv.server, { user: i ? 'ben' : 'anna', seed: 9000 + i }) : undefined;
          await fresh?.client.syncNow();
          expect(await syncedRows(d.inner)).toEqual(fresh ? await syncedRows(fresh.inner) : truth);
          expect(await own(d.inner, 'syncShadow')).toEqual([]);
          expect((await own(d.inner, 'syncCommand')).filter((c) => c.status !== 'rejected')).toEqual([]);
          expect(d.client.status()).toMatchObject({ pending: 0, unpushed: 0, errors: [] });
        }
        const rejected = devices.map((d) => new Set(d.client.status().rejected.map((r) => r.seq)));
        const accepted = (op: string) => executed.filter((e) => e.name === op && !rejected[e.who]!.has(e.seq)).length;
        const { items: activities } = await srv.crm.activities.list({ limit: 500 });
        expect(activities).toHaveLength(accepted('log'));
        const postpones = (truth.deal as { postponeCount?: number }[]).reduce((n, row) => n + (row.postponeCount ?? 0), 0);
        expect(postpones).toBe(accepted('postpone'));
      }),
      { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? (idb ? 15 : 40)) },
    );
  });
});
