import { createCrm, createMemoryStorage, silentLogger, type StorageAdapter } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock, type FakeClock } from '@crmkit/core/testing';
import type { Row } from '@crmkit/core/storage';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type SyncTransport } from '../../src/index.js';
import { isSynced, SYNCED_ENTITIES } from '../../src/protocol/synced-entities.js';
import type { PullResponse, PushResponse } from '../../src/protocol/messages.js';

/** A transport between a device and a server that tests can cut, and whose messages they can lose or repeat. */
export function faultyTransport(server: { handle(r: Request): Promise<Response> }, user: string) {
  const inner = inProcessTransport(server, { headers: () => ({ 'x-user': user }) });
  const faults = {
    online: true,
    /** Drop the next n responses (the request reached the server). */
    loseResponses: 0,
    /** Send the next n requests twice (a retry by the network). */
    duplicate: 0,
    /** Requests the server received, for replaying later (reordering). */
    sent: [] as { route: 'push' | 'pull'; body: unknown }[],
  };
  const call = async <T>(route: 'push' | 'pull', body: never, signal: AbortSignal): Promise<T> => {
    if (!faults.online) throw new TypeError('fetch failed (offline)');
    faults.sent.push({ route, body: structuredClone(body) });
    if (faults.duplicate > 0) {
      faults.duplicate--;
      await (inner[route] as (b: never, s: AbortSignal) => Promise<unknown>)(body, signal).catch(() => undefined);
    }
    const answer = await (inner[route] as (b: never, s: AbortSignal) => Promise<T>)(body, signal);
    if (faults.loseResponses > 0) {
      faults.loseResponses--;
      throw new TypeError('connection reset (response lost)');
    }
    return answer;
  };
  const transport: SyncTransport = {
    push: (body, signal) => call<PushResponse>('push', body as never, signal),
    pull: (body, signal) => call<PullResponse>('pull', body as never, signal),
  };
  return { transport, faults };
}

/** A device crm on memory behind the replica wrapper (`inner` kept to reopen after a crash). */
export async function deviceCrm(options: { user: string; seed: number; inner?: StorageAdapter; clock?: FakeClock }) {
  const inner = options.inner ?? createMemoryStorage();
  const clock = options.clock ?? createFakeClock('2026-01-05T10:00:00.000Z');
  const crm = await createCrm({
    storage: replicaStorage(inner), tenantId: 'acme', actor: { userId: options.user }, logger: silentLogger, clock, random: { seed: options.seed }, closeStorage: false,
    features: [tasks(), activities(), syncReplica()] as const,
  });
  return { crm, inner, clock };
}

/** A device crm and its sync client (not started: tests drive `syncNow`). */
export async function syncedDevice(server: { handle(r: Request): Promise<Response> }, options: { user: string; seed: number; inner?: StorageAdapter; pageRows?: number }) {
  const dev = await deviceCrm(options);
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
