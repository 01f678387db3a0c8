import { CrmError, createCrm, createMemoryStorage, silentLogger, type CrmFeature, type StorageAdapter } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock, type FakeClock } from '@crmkit/core/testing';
import type { Row } from '@crmkit/core/storage';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type SyncTransport } from '../../src/index.js';
import { isSynced, SYNCED_ENTITIES } from '../../src/protocol/synced-entities.js';
import type { PullResponse, PushResponse } from '../../src/protocol/messages.js';
import type { TagPack } from '../../src/client/tag-packs.js';

/** A transport between a device and a server that tests can cut, and whose messages they can lose or repeat. */
export function faultyTransport(server: { handle(r: Request): Promise<Response> }, user: string) {
  const inner = inProcessTransport(server, { headers: () => ({ 'x-user': user }) });
  const faults = {
    online: true,
    /** Drop the next n responses (the request reached the server). */
    loseResponses: 0,
    /** Send the next n requests twice (a retry by the network). */
    duplicate: 0,
    /** Drop the next n requests before they reach the server. */
    dropRequests: 0,
    /** Cut one route only (the other still works). */
    blocked: undefined as 'push' | 'pull' | undefined,
    /** Answer the next pull with this (an older answer arriving late). */
    stalePull: undefined as PullResponse | undefined,
    /** Runs once before the next pull is sent (the user acting while a cycle runs). */
    beforePull: undefined as (() => Promise<void>) | undefined,
    /** Pull answers received, in order. */
    pulls: [] as PullResponse[],
    /** Requests the server received, for replaying later (reordering). */
    sent: [] as { route: 'push' | 'pull'; body: unknown }[],
    /** Every answer the server gave this device's requests (delivered, lost or of a duplicate), in order. */
    answers: [] as { route: 'push' | 'pull'; answer: PushResponse | PullResponse }[],
  };
  const call = async <T>(route: 'push' | 'pull', body: never, signal: AbortSignal): Promise<T> => {
    if (!faults.online || faults.blocked === route) throw new TypeError('fetch failed (offline)');
    if (faults.dropRequests > 0) {
      faults.dropRequests--;
      throw new TypeError('fetch failed (request lost)');
    }
    if (route === 'pull' && faults.beforePull) {
      const run = faults.beforePull;
      faults.beforePull = undefined;
      await run();
    }
    if (route === 'pull' && faults.stalePull) {
      const stale = faults.stalePull;
      faults.stalePull = undefined;
      return stale as T;
    }
    faults.sent.push({ route, body: structuredClone(body) });
    if (faults.duplicate > 0) {
      faults.duplicate--;
      const first = await (inner[route] as (b: never, s: AbortSignal) => Promise<PushResponse | PullResponse>)(body, signal).catch(() => undefined);
      if (first) faults.answers.push({ route, answer: first });
    }
    const answer = await (inner[route] as (b: never, s: AbortSignal) => Promise<T>)(body, signal);
    faults.answers.push({ route, answer: answer as PushResponse | PullResponse });
    if (faults.loseResponses > 0) {
      faults.loseResponses--;
      throw new TypeError('connection reset (response lost)');
    }
    if (route === 'pull') faults.pulls.push(answer as PullResponse);
    return answer;
  };
  const transport: SyncTransport = {
    push: (body, signal) => call<PushResponse>('push', body as never, signal),
    pull: (body, signal) => call<PullResponse>('pull', body as never, signal),
  };
  /** Sends the `index`-th earlier request again, arriving after newer ones (reordering across requests); its answer reaches no device. */
  const replay = async (index: number) => {
    const old = faults.sent[index % Math.max(1, faults.sent.length)];
    if (!old) return;
    const answer = await (inner[old.route] as (b: never, s: AbortSignal) => Promise<PushResponse | PullResponse>)(structuredClone(old.body) as never, new AbortController().signal).catch(() => undefined);
    if (answer) faults.answers.push({ route: old.route, answer });
  };
  return { transport, faults, replay };
}

/**
 * `inner` with a gate on the network for pushes: after `hold()`, the next push stops there (the promise
 * `hold` returns resolves when it does) until `open()` lets it on to the server, late (a slow request
 * overtaken by newer ones). Pulls and other pushes pass at once.
 */
export function gatedTransport(inner: SyncTransport) {
  let gate: Promise<void> | undefined;
  let arrived = (): void => undefined;
  let open = (): void => undefined;
  const transport: SyncTransport = {
    pull: (body, signal) => inner.pull(body, signal),
    async push(body, signal) {
      if (gate) {
        const g = gate;
        gate = undefined;
        arrived();
        await g;
      }
      return inner.push(body, signal);
    },
  };
  const hold = (): Promise<void> => {
    gate = new Promise<void>((r) => (open = r));
    return new Promise<void>((r) => (arrived = r));
  };
  return { transport, hold, open: () => open() };
}

/** A device crm on memory behind the replica wrapper (`inner` kept to reopen after a crash). */
export async function deviceCrm(options: { user: string; seed: number; inner?: StorageAdapter; clock?: FakeClock }) {
  return deviceCrmWith(options, [] as const);
}

/** `deviceCrm` with more features (observers). */
export async function deviceCrmWith<F extends readonly CrmFeature[]>(options: { user: string; seed: number; inner?: StorageAdapter; clock?: FakeClock }, extra: F) {
  const inner = options.inner ?? createMemoryStorage();
  const clock = options.clock ?? createFakeClock('2026-01-05T10:00:00.000Z');
  const replica = replicaStorage(inner);
  const crm = await createCrm({
    storage: replica, tenantId: 'acme', actor: { userId: options.user }, logger: silentLogger, clock, random: { seed: options.seed }, closeStorage: false,
    features: [tasks(), activities(), syncReplica(), ...extra] as const,
  });
  return { crm, inner, replica, clock };
}

/** A device crm and its sync client (not started: tests drive `syncNow`). */
export async function syncedDevice(server: { handle(r: Request): Promise<Response> }, options: { user: string; seed: number; inner?: StorageAdapter; pageRows?: number }) {
  return syncedDeviceWith(server, options, [] as const);
}

/** `syncedDevice` with more features (custom fields, observers). */
export async function syncedDeviceWith<F extends readonly CrmFeature[]>(server: { handle(r: Request): Promise<Response> }, options: { user: string; seed: number; inner?: StorageAdapter; pageRows?: number }, extra: F) {
  const dev = await deviceCrmWith(options, extra);
  const net = faultyTransport(server, options.user);
  const client = await createSyncClient({ crm: dev.crm, transport: net.transport, start: false, ...(options.pageRows ? { pageRows: options.pageRows } : {}) });
  return { ...dev, ...net, client };
}

/** Every synced row of a storage, by entity, sorted by id (`setting`: only synced settings). */
export async function syncedRows(storage: StorageAdapter): Promise<Record<string, Row[]>> {
  return storage.transaction('r', async (tx) => {
    const out: Record<string, Row[]> = {};
    for (const entity of SYNCED_ENTITIES) {
      const { rows } = await tx.query(entity, 'acme', { sort: [{ field: 'id' }] });
      out[entity] = rows.filter((r) => isSynced(entity, r.id));
    }
    return out;
  });
}

/** Rows of a device's own bookkeeping entity. */
export async function own(storage: StorageAdapter, entity: 'syncCommand' | 'syncShadow' | 'syncTag'): Promise<Row[]> {
  return storage.transaction('r', async (tx) => (await tx.query(entity, 'acme', { sort: [{ field: 'id' }] })).rows);
}

/** The exit tags a device holds, one entry per (tag, epoch), flattened from its tag packs (design sync.md §21). */
export async function heldTags(storage: StorageAdapter): Promise<{ tag: string; entity: string; recordId: string; epoch: number; pack: string }[]> {
  return (await own(storage, 'syncTag')).flatMap((row) => {
    const pack = row as TagPack;
    if (!Array.isArray(pack.entries)) throw new Error(`syncTag row ${row.id} is not a pack`);
    return pack.entries.map((e) => ({ tag: e.slice(0, 16), entity: e.slice(16, e.indexOf(':', 16)), recordId: e.slice(e.indexOf(':', 16) + 1), epoch: pack.epoch, pack: pack.id }));
  });
}

/** A storage that throws a retryable `STORAGE` error at its n-th write once armed (a crash before commit: the transaction rolls back). */
export function crashingStorage(inner: StorageAdapter) {
  const control = { armedAt: 0, writes: 0, crashed: false };
  const adapter: StorageAdapter = {
    ...inner,
    name: inner.name,
    capabilities: inner.capabilities,
    open: (schema) => inner.open(schema),
    onChange: (listener) => inner.onChange(listener),
    ensureIndexes: (indexes) => inner.ensureIndexes(indexes),
    close: () => inner.close(),
    transaction: (mode, fn) => inner.transaction(mode, (tx) => fn({
      ...tx,
      getMany: (...a) => tx.getMany(...a), query: (...a) => tx.query(...a), aggregate: (...a) => tx.aggregate(...a),
      nextSequence: (...a) => tx.nextSequence(...a), claim: (...a) => tx.claim(...a), lockKeys: (...a) => tx.lockKeys(...a),
      write: async (entity, tenantId, ops) => {
        if (control.armedAt > 0 && ++control.writes === control.armedAt) {
          control.crashed = true;
          throw new CrmError('STORAGE', 'crash (test)', { adapter: 'test', retryable: true });
        }
        return tx.write(entity, tenantId, ops);
      },
    })),
  };
  return { adapter, control };
}
