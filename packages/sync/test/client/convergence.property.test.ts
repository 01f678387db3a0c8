import { createMemoryStorage, isCrmError, type Crm, type CrmContext, type StorageAdapter } from '@crmkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scopedServer } from '../server/scope-support.js';
import { serverOf } from '../server/support.js';
import { fakeIndexedDb } from './idb-env.js';
import { createCommandIds } from '../../src/protocol/command-ids.js';
import { pinnedClock, runCommand, type SyncableCrm } from '../../src/protocol/commands.js';
import type { Command, PullResponse, PushRequest, PushResponse } from '../../src/protocol/messages.js';
import { boundStorage } from '../../src/server/bound-storage.js';
import { heldEvents } from '../../src/server/held-events.js';
import { ownVersion } from '../../src/server/push.js';
import { PUSHED_BY, SYNC_CONTEXT } from '../../src/server/sync-changes.js';
import { own, syncedDevice, syncedRows } from './support.js';

type Who = 0 | 1 | 2;
/** Anna has two devices (0 and 2), Ben one. */
const USERS = ['anna', 'ben', 'anna'] as const;
const who = fc.constantFrom(0 as const, 1 as const, 2 as const);

type Action =
  | { kind: 'device'; who: Who; op: 'advance' | 'postpone' | 'lose' | 'rename' | 'log' | 'create' | 'complete'; deal: number; day: number }
  | { kind: 'server'; op: 'rename' | 'advance' | 'reassign'; deal: number }
  | { kind: 'net'; who: Who; fault: 'offline' | 'online' | 'loseResponse' | 'duplicate' | 'dropRequest' | 'replayOld' | 'stalePull'; pick: number }
  | { kind: 'sync'; who: Who };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('device' as const), who, op: fc.constantFrom('advance' as const, 'postpone' as const, 'lose' as const, 'rename' as const, 'log' as const, 'create' as const, 'complete' as const), deal: fc.nat(3), day: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('server' as const), op: fc.constantFrom('rename' as const, 'advance' as const, 'reassign' as const), deal: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('net' as const), who, fault: fc.constantFrom('offline' as const, 'online' as const, 'loseResponse' as const, 'duplicate' as const, 'dropRequest' as const, 'replayOld' as const, 'stalePull' as const), pick: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), who }) },
);

/** What changed the server, in commit order: a pushed command's transaction, or one of the test's own server changes. */
type Committed = { kind: 'command'; clientId: string; seq: number; at: number } | { kind: 'server'; run: (crm: Crm) => Promise<unknown> };

/**
 * The server's storage, logging in commit order each committed transaction that applied a pushed command:
 * it advanced a `syncClient` row's `lastSeq` beyond what was committed before and wrote other rows too (a
 * rejection's transaction writes only the `syncClient` row). Independent of push's own bookkeeping.
 */
function commitLog(inner: StorageAdapter, log: Committed[]): StorageAdapter {
  const committed = new Map<string, number>();
  return {
    ...inner,
    name: inner.name, capabilities: inner.capabilities,
    open: (schema) => inner.open(schema), onChange: (listener) => inner.onChange(listener),
    ensureIndexes: (indexes) => inner.ensureIndexes(indexes), close: () => inner.close(),
    transaction: async (mode, fn) => {
      let advanced: { clientId: string; seq: number; at: number } | undefined;
      let wroteOther = false;
      const out = await inner.transaction(mode, (tx) => {
        advanced = undefined;
        wroteOther = false;
        return fn({
          ...tx,
          getMany: (...a) => tx.getMany(...a), query: (...a) => tx.query(...a), aggregate: (...a) => tx.aggregate(...a),
          nextSequence: (...a) => tx.nextSequence(...a), claim: (...a) => tx.claim(...a), lockKeys: (...a) => tx.lockKeys(...a),
          write: (entity, tenantId, ops) => {
            for (const op of ops) {
              if (entity !== 'syncClient') wroteOther ||= entity !== 'syncChange';
              else if (op.type !== 'delete' && (op.row.lastSeq as number) > (committed.get(op.row.id) ?? 0)) advanced = { clientId: op.row.id, seq: op.row.lastSeq as number, at: op.row.lastAt as number };
            }
            return tx.write(entity, tenantId, ops);
          },
        });
      });
      if (advanced) {
        committed.set(advanced.clientId, advanced.seq);
        if (wroteOther) log.push({ kind: 'command', ...advanced });
      }
      return out;
    },
  };
}

/** Runs a command on a server as push does (principal, derived ids), without push's exactly-once bookkeeping. */
async function runPlain(crm: Crm, userId: string, clientId: string, command: Command, at: number): Promise<void> {
  const ctx = (crm as unknown as { syncChanges: { [SYNC_CONTEXT]: CrmContext } }).syncChanges[SYNC_CONTEXT];
  const events = heldEvents(ctx.bus);
  const ids = createCommandIds(command.at, command.seed);
  await ctx.storage.transaction('rw', async (tx) => {
    // As push runs it: the client's own writes are marked, and a version only it moved on since is taken (§25).
    // This oracle checks exactly-once replay, not §25 itself (it uses the server's own rule): review13d's
    // foreign-write.property states §25 independently (no move survives a foreign write the user never saw).
    PUSHED_BY.set(tx, clientId);
    const args = await ownVersion(tx, 'acme', clientId, command);
    const view = ctx.scope!({ storage: boundStorage(ctx.storage, tx), bus: events.bus, bound: true, clock: pinnedClock(ctx.clock, at), newId: (entity, nowMs) => (entity === 'event' ? ctx.newId(entity, nowMs) : ids(entity)) }, { userId });
    await runCommand(view as SyncableCrm, command.name, args);
  });
  events.release();
}

/** A server's stored state a replay must reproduce: synced rows, and events without their ids. */
async function storedState(storage: StorageAdapter) {
  const rows = await syncedRows(storage);
  const events = await storage.transaction('r', async (tx) => (await tx.query('event', 'acme', {})).rows.map(({ id: _, ...rest }) => JSON.stringify(rest)).sort());
  return { rows, events };
}

/**
 * Design sync.md §13 test 2: random commands on three devices of two users (Anna has two) and on the server,
 * random disconnections, lost requests, lost answers, duplicated requests, old requests arriving late
 * (reordered across requests) and old pull answers delivered again. At quiescence (a) every device equals
 * what the server projects for its user, holds no shadow and no standing command; (b) exactly once: every
 * accepted command left exactly one event on the server (creates, postpones, losses, completions, notes),
 * nothing else did, and every command got a verdict; (c) the devices' rejected lists are exactly the
 * server's first verdicts, and rejected commands left no event; (d) the replay oracle: the server's
 * committed commands (each accepted command exactly once, no rejected one) re-run in commit order with the
 * test's server changes on a fresh server give the same stored state.
 */
for (const [scoped, idb] of [[false, false], [true, false], [true, true]] as const) describe(`device convergence under random commands and faults (${scoped ? 'reps see their own deals; reassignments move them' : 'no access rules'}; devices on ${idb ? 'IndexedDB (fake)' : 'memory'})`, () => {
  it('every device converges to the server; accepted commands applied exactly once; rejected ones leave no trace', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 60 }), async (actions) => {
        run++;
        const log: Committed[] = [];
        const makeServer = (storage: () => StorageAdapter) => (scoped ? scopedServer(storage) : serverOf(storage));
        const srv = await makeServer(() => commitLog(createMemoryStorage(), log));
        const deals = [];
        for (let i = 0; i < 3; i++) deals.push((await srv.crm.deals.create({ title: `Deal ${i}`, pipelineId: srv.pipeline.id, ownerId: 'anna', nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } })).id);
        const inner = () => (idb ? { inner: fakeIndexedDb() } : {});
        const devices = [];
        for (const [i, user] of USERS.entries()) devices.push(await syncedDevice(srv.server, { user, seed: 1000 + run * 3 + i, ...inner() }));
        for (const d of devices) await d.client.syncNow();
        const executed: { who: number; seq: number; name: string }[] = [];
        const serverChanges = { advance: 0, rename: 0, reassign: 0 };
        let renames = 0;   // every title is new, so every accepted rename is a change (a no-op update records no event)
        for (const a of actions) {
          if (a.kind === 'sync') await devices[a.who]!.client.syncNow().catch(() => undefined);
          else if (a.kind === 'net') {
            const f = devices[a.who]!.faults;
            if (a.fault === 'offline') f.online = false;
            else if (a.fault === 'online') f.online = true;
            else if (a.fault === 'loseResponse') f.loseResponses = 1;
            else if (a.fault === 'duplicate') f.duplicate = 1;
            else if (a.fault === 'dropRequest') f.dropRequests = 1;
            else if (a.fault === 'replayOld') await devices[a.who]!.replay(a.pick);
            else if (f.pulls.length) f.stalePull = f.pulls[a.pick % f.pulls.length];
          } else if (a.kind === 'server') {
            const id = deals[a.deal % deals.length]!;
            const owner = async () => ((await srv.crm.deals.get(id)).ownerId === 'anna' ? 'ben' : 'anna');
            const change = async () => {
              const patch = a.op === 'rename' ? { title: `Server ${a.deal} #${++renames}` } : a.op === 'reassign' ? { ownerId: await owner() } : undefined;
              const run = (crm: Crm) => (patch ? crm.deals.update(id, patch) : crm.deals.advance(id));
              await run(srv.crm);
              return run;
            };
            const run = await change().catch((e: unknown) => {
              if (!isCrmError(e)) throw e;
              return undefined;
            });
            if (run) {
              serverChanges[a.op]++;
              log.push({ kind: 'server', run }); // replayed on the fresh server in this order
            }
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
              rename: () => d.client.execute('deals.update', id, { title: `Device ${a.who} ${a.day} #${++renames}` }),
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
        for (const d of devices) Object.assign(d.faults, { online: true, loseResponses: 0, duplicate: 0, dropRequests: 0, stalePull: undefined });
        for (let round = 0; round < 2; round++) for (const d of devices) await d.client.syncNow();
        const truth = await syncedRows(srv.storage);
        for (const [i, d] of devices.entries()) {
          // What the server projects for the device's user now: a new device's rows after its first sync.
          const fresh = scoped ? await syncedDevice(srv.server, { user: USERS[i]!, seed: 9000 + i }) : undefined;
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
        // (b) Exactly once, and rejected commands leave no trace: one event per accepted command, no other.
        const events: Record<string, number> = {};
        await srv.storage.transaction('r', async (tx) => {
          for (const row of (await tx.query('event', 'acme', {})).rows) events[row.type as string] = (events[row.type as string] ?? 0) + 1;
        });
        expect({ created: events['deal.created'] ?? 0, postponed: events['deal.postponed'] ?? 0, lost: events['deal.lost'] ?? 0, completed: events['task.completed'] ?? 0, logged: events['activity.logged'] ?? 0, moved: events['deal.stageChanged'] ?? 0, updated: events['deal.updated'] ?? 0 })
          .toEqual({ created: 3 + accepted('create'), postponed: accepted('postpone'), lost: accepted('lose'), completed: accepted('complete'), logged: accepted('log'), moved: accepted('advance') + serverChanges.advance, updated: accepted('rename') + serverChanges.rename + serverChanges.reassign });
        // (c) Each device's rejected list is the server's first verdict of each of its commands; every command got one.
        for (const [i, d] of devices.entries()) {
          const first = new Map<number, string>();
          for (const { route, answer } of d.faults.answers) {
            const verdicts = route === 'push' ? (answer as PushResponse).results.map((r) => [r.seq, r.status] as const) : (answer as PullResponse).client.rejected.map((r) => [r.seq, 'rejected'] as const);
            for (const [seq, status] of verdicts) if (!first.has(seq)) first.set(seq, status);
          }
          const mine = executed.filter((e) => e.who === i).map((e) => e.seq);
          expect(mine.filter((seq) => !first.has(seq)), `device ${i}: commands without a verdict`).toEqual([]);
          expect([...rejected[i]!].sort((x, y) => x - y)).toEqual(mine.filter((seq) => first.get(seq) === 'rejected'));
        }
        // (d) Replay oracle. The committed list holds each accepted command once and no rejected one …
        const clients = devices.map((d) => (d.faults.sent.find((r) => r.route === 'push')?.body as PushRequest | undefined)?.clientId);
        const key = (who: number, seq: number) => `${who}:${seq}`;
        const commands = new Map<string, Command>();
        for (const [i, d] of devices.entries()) {
          for (const { route, body } of d.faults.sent) if (route === 'push') for (const c of (body as PushRequest).commands) commands.set(key(i, c.seq), c);
        }
        const applied = log.flatMap((e) => (e.kind === 'command' ? [key(clients.indexOf(e.clientId), e.seq)] : []));
        expect(applied.sort()).toEqual(executed.filter((e) => !rejected[e.who]!.has(e.seq)).map((e) => key(e.who, e.seq)).sort());
        // … and run once each in commit order, with the test's server changes, on a fresh server gives the same state.
        const fresh = await makeServer(() => createMemoryStorage());
        for (let i = 0; i < 3; i++) await fresh.crm.deals.create({ title: `Deal ${i}`, pipelineId: fresh.pipeline.id, ownerId: 'anna', nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } });
        for (const e of log) {
          if (e.kind === 'server') await e.run(fresh.crm);
          else {
            const who = clients.indexOf(e.clientId);
            await runPlain(fresh.crm, USERS[who]!, e.clientId, commands.get(key(who, e.seq))!, e.at);
          }
        }
        expect(await storedState(fresh.storage)).toEqual(await storedState(srv.storage));
      }),
      { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? (idb ? 15 : 40)) },
    );
  });
});
