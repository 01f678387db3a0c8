import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, own, syncedDevice } from './support.js';

const issue = (code: string) => ({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ code })] } });

describe('device rules (design sync.md §8, §12)', () => {
  it('writes of synced data outside the sync client fail with sync_local_write and write nothing', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const dev = await syncedDevice(srv.server, { user: 'anna', seed: 51 });
    await dev.client.syncNow();
    await expect(dev.crm.deals.create({ title: 'Direct', pipelineId: srv.pipeline.id })).rejects.toMatchObject(issue('sync_local_write'));
    // Not a command either (configuration is the server's): through client.crm it passes to the crm and meets the guard.
    await expect(dev.client.crm.pipelines.create({ name: 'Mine', stages: [{ key: 'a', name: 'A' }] })).rejects.toMatchObject(issue('sync_local_write'));
    // The message says where configuration changes (review13c): not "through client.crm", which the caller used.
    await expect(dev.client.crm.pipelines.create({ name: 'Mine', stages: [{ key: 'a', name: 'A' }] })).rejects.toThrow(/pipeline: configuration changes on the server only/);
    await expect(dev.crm.deals.create({ title: 'Direct', pipelineId: srv.pipeline.id })).rejects.toThrow(/change through client\.crm/);
    await expect(dev.client.crm.leads.create({ name: 'Ada' }, { assignWith: 'round' } as never)).rejects.toMatchObject(issue('sync_unsupported'));
    await expect(dev.client.crm.deals.create({ id: 'deal-1', title: 'Mine', pipelineId: srv.pipeline.id })).rejects.toMatchObject(issue('client_id_format'));
    expect((await dev.crm.deals.list({})).items).toEqual([]);
    expect(await own(dev.inner, 'syncCommand')).toEqual([]);
    // Reads pass through.
    expect((await dev.client.crm.pipelines.list()).items.map((p) => p.id)).toEqual([srv.pipeline.id]);
  });

  it('createSyncClient refuses a crm it cannot sync', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const transport = inProcessTransport(srv.server);
    const plain = await createCrm({ storage: createMemoryStorage(), tenantId: 'acme', logger: silentLogger, features: [tasks(), activities()] });
    await expect(createSyncClient({ crm: plain, transport })).rejects.toMatchObject(issue('feature_required'));
    await expect(createCrm({ storage: createMemoryStorage(), tenantId: 'acme', logger: silentLogger, features: [syncReplica()] })).rejects.toMatchObject(issue('replica_storage'));
    const scheduled = await createCrm({ storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', logger: silentLogger, features: [tasks(), activities(), scheduler(), syncReplica()] });
    await expect(createSyncClient({ crm: scheduled, transport })).rejects.toMatchObject(issue('sync_features'));
    const { crm } = await deviceCrm({ user: 'anna', seed: 52 });
    await expect(createSyncClient({ crm })).rejects.toMatchObject(issue('transport'));
    await expect(createSyncClient({ crm, transport, endpoint: '/sync' })).rejects.toMatchObject(issue('transport'));
  });

  it('status snapshots are stable until something changes; subscribers hear each change', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const dev = await syncedDevice(srv.server, { user: 'anna', seed: 53 });
    const seen: unknown[] = [];
    const off = dev.client.subscribe(() => seen.push(dev.client.status()));
    const before = dev.client.status();
    expect(dev.client.status()).toBe(before);
    expect(Object.isFrozen(before)).toBe(true);
    await dev.client.syncNow();
    expect(dev.client.status()).toMatchObject({ state: 'idle', initialSync: { done: true }, lastSyncAt: '2026-01-05T10:00:00.000Z' });
    const deal = await srv.crm.deals.create({ title: 'Acme', pipelineId: srv.pipeline.id });
    await dev.client.syncNow();
    await dev.client.crm.deals.advance(deal.id);
    expect(dev.client.status()).toMatchObject({ pending: 1, unpushed: 1 });
    const count = seen.length;
    expect(count).toBeGreaterThan(2);
    expect(new Set(seen).size).toBe(count); // a new object for each change
    off();
    await dev.client.syncNow();
    expect(seen).toHaveLength(count);
  });

  it('state is the last cycle\'s outcome whether syncNow() or the loop ran it; stopped only before any cycle or after stop()', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const dev = await syncedDevice(srv.server, { user: 'anna', seed: 57 });
    const states = () => dev.client.status().state;
    expect(states()).toBe('stopped');
    await dev.client.syncNow();
    expect(states()).toBe('idle');
    dev.faults.online = false;
    await expect(dev.client.syncNow()).rejects.toMatchObject({ code: 'STORAGE' });
    expect(states()).toBe('offline');
    dev.faults.online = true;
    await dev.client.syncNow();
    expect(states()).toBe('idle');
    await dev.client.stop();
    expect(states()).toBe('stopped');
    dev.faults.online = false;
    await dev.client.syncNow().catch(() => undefined);
    expect(states()).toBe('offline');
    dev.client.start(); // the loop starting does not hide the failure: its first cycle decides
    expect(states()).toBe('offline');
    await dev.client.stop();
    expect(states()).toBe('stopped');
    const stranger = await deviceCrm({ user: 'ben', seed: 58 });
    const anonymous = await createSyncClient({ crm: stranger.crm, transport: inProcessTransport(srv.server), start: false }); // no x-user: 401
    await expect(anonymous.syncNow()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(anonymous.status().state).toBe('error');
  });

  it('the loop syncs on start, after a local command, and backs off while offline', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const deal = await srv.crm.deals.create({ title: 'Acme', pipelineId: srv.pipeline.id });
    const dev = await deviceCrm({ user: 'anna', seed: 54 });
    let pushes = 0;
    let online = false;
    const inner = inProcessTransport(srv.server, { headers: () => ({ 'x-user': 'anna' }) });
    const transport = {
      push: (b: never, s: AbortSignal) => (online ? (pushes++, inner.push(b, s)) : Promise.reject(new TypeError('offline'))),
      pull: (b: never, s: AbortSignal) => (online ? inner.pull(b, s) : Promise.reject(new TypeError('offline'))),
    };
    const client = await createSyncClient({ crm: dev.crm, transport, pollMs: 60_000 });
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
    };
    dev.clock.advance(0);
    await settle();
    expect(client.status().state).toBe('offline');
    online = true;
    dev.clock.advance(60_000); // past any backoff (≤ 60 s)
    await settle();
    expect(client.status()).toMatchObject({ state: 'idle', errors: [] });
    await client.crm.deals.advance(deal.id);
    dev.clock.advance(50);
    await settle();
    expect(pushes).toBe(1);
    expect((await srv.crm.deals.get(deal.id)).stageKey).toBe('proposal');
    await client.stop();
    expect(client.status().state).toBe('stopped');
  });
});

describe('live signal (design sync.md §9, device side)', () => {
  it('a poke pulls at once; a dropped stream falls back to polling and listens again', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const dev = await deviceCrm({ user: 'anna', seed: 55 });
    const inner = inProcessTransport(srv.server, { headers: () => ({ 'x-user': 'anna' }) });
    let poke = () => undefined as void;
    let drop = () => undefined as void;
    let listens = 0;
    const transport = {
      ...inner,
      listen: (onPoke: () => void, signal: AbortSignal, onMode?: (mode: 'sse' | 'long-poll') => void) => new Promise<void>((resolve) => {
        listens++;
        poke = onPoke;
        drop = resolve;
        onMode?.('sse');
        signal.addEventListener('abort', () => resolve());
      }),
    };
    const client = await createSyncClient({ crm: dev.crm, transport, pollMs: 3_600_000 });
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
    };
    dev.clock.advance(0);
    await settle();
    expect(client.status()).toMatchObject({ state: 'idle', live: 'sse' });
    const deal = await srv.crm.deals.create({ title: 'Pushed by the server', pipelineId: srv.pipeline.id });
    poke();
    dev.clock.advance(0);
    await settle();
    expect((await dev.crm.deals.get(deal.id)).title).toBe('Pushed by the server');
    drop();
    await settle();
    expect(client.status().live).toBe('polling');
    dev.clock.advance(60_000);
    await settle();
    expect(listens).toBe(2);
    expect(client.status().live).toBe('sse');
    await client.stop();
    expect(client.status()).toMatchObject({ state: 'stopped', live: 'none' });
  });
});

describe('device lifecycle', () => {
  it('crm.close() stops its sync client; storage work runs under the Web Lock where navigator.locks exists', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const requested: string[] = [];
    const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { configurable: true, value: { locks: { request: (name: string, fn: () => Promise<unknown>) => (requested.push(name), fn()) } } });
    try {
      const dev = await deviceCrm({ user: 'anna', seed: 56 });
      const client = await createSyncClient({ crm: dev.crm, transport: inProcessTransport(srv.server, { headers: () => ({ 'x-user': 'anna' }) }) });
      expect(requested.length).toBeGreaterThan(0);
      expect(new Set(requested)).toEqual(new Set(['crmkit-sync:memory:acme']));
      expect(client.status().state).toBe('idle');
      await dev.crm.close();
      expect(client.status()).toMatchObject({ state: 'stopped', live: 'none' });
    } finally {
      if (previous) Object.defineProperty(globalThis, 'navigator', previous);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  });
});

describe('page events (browsers)', () => {
  it('coming back online and the page becoming visible run a cycle at once; stop() removes the listeners', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const listeners = new Map<string, { fn: () => void; signal?: AbortSignal }[]>();
    const host = globalThis as { addEventListener?: unknown; document?: unknown };
    host.addEventListener = (type: string, fn: () => void, options?: { signal?: AbortSignal }) => listeners.set(type, [...(listeners.get(type) ?? []), { fn, ...options }]);
    host.document = { visibilityState: 'visible' };
    const fire = (type: string) => listeners.get(type)?.filter((l) => !l.signal?.aborted).forEach((l) => l.fn());
    try {
      const dev = await deviceCrm({ user: 'anna', seed: 57 });
      let pulls = 0;
      const inner = inProcessTransport(srv.server, { headers: () => ({ 'x-user': 'anna' }) });
      const client = await createSyncClient({ crm: dev.crm, pollMs: 3_600_000, transport: { push: (b, s) => inner.push(b, s), pull: (b, s) => (pulls++, inner.pull(b, s)) } });
      const settle = async () => {
        for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
      };
      dev.clock.advance(0);
      await settle();
      expect(pulls).toBe(1);
      fire('online');
      dev.clock.advance(0);
      await settle();
      expect(pulls).toBe(2);
      fire('visibilitychange');
      dev.clock.advance(0);
      await settle();
      expect(pulls).toBe(3);
      await client.stop();
      fire('online');
      dev.clock.advance(0);
      await settle();
      expect(pulls).toBe(3);
    } finally {
      delete host.addEventListener;
      delete host.document;
    }
  });
});
