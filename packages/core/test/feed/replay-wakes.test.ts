import { describe, expect, it, vi } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, type StorageAdapter } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { createFakeClock, type FakeClock } from '@crmkit/core/testing';

/**
 * A replay (`crm.events.replay`, `crm.webhooks.replay`) puts an event back in line, due now: a runner
 * started with `start()` that sleeps (for `pollMs`, or the scheduler for up to `maxSleepMs`) delivers it
 * now, not at its next wake-up — also when the replay lands while it is busy looking.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;

async function settle(): Promise<void> {
  for (let i = 0; i < 40; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Lets work run, then moves fake time on by `ms` (firing timers on the way), then lets work run again. */
async function flush(clock: FakeClock, ms: number): Promise<void> {
  await settle();
  clock.advance(ms);
  await settle();
}

/**
 * Memory storage with a gate: once armed, the next read-only transaction that queries the backlog (a
 * runner's look for work) waits after its reads until `release()`, with its answer already made.
 */
function gatedStorage(): { storage: StorageAdapter; arm(): { reached: Promise<void>; release(): void } } {
  const inner = createMemoryStorage();
  let gate: { reached: () => void; held: Promise<void> } | undefined;
  const transaction = async <T>(mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<T>): Promise<T> => {
    let readsBacklog = false;
    const result = await inner.transaction(mode, (tx) => {
      const query: StorageTx['query'] = (entity, ...rest) => {
        readsBacklog ||= entity === 'consumerBacklog';
        return tx.query(entity, ...rest);
      };
      return fn(new Proxy(tx, { get: (target, key, receiver) => (key === 'query' ? query : Reflect.get(target, key, receiver)) as unknown }));
    });
    const held = gate;
    if (mode === 'r' && readsBacklog && held) {
      gate = undefined;
      held.reached();
      await held.held;
    }
    return result;
  };
  const storage = new Proxy(inner, { get: (target, key, receiver) => (key === 'transaction' ? transaction : Reflect.get(target, key, receiver)) as unknown });
  return {
    storage,
    arm() {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      gate = { reached, held: new Promise<void>((resolve) => (release = resolve)) };
      return { reached: reachedPromise, release };
    },
  };
}

describe('a replay wakes a started runner now', () => {
  it('crm.events.replay: a consumer asleep for its pollMs (1 h) delivers the replayed event within ms', async () => {
    const clock = createFakeClock('2026-03-02T09:00:00.000Z');
    const crm = await createCrm({ storage: createMemoryStorage(), clock, tenantId: 't', logger: silentLogger, features: [events()] });
    let failing = true;
    const got: string[] = [];
    const sync = await crm.events.consume('sync', (event) => {
      if (failing) throw new Error('down');
      got.push(event.id);
    }, { types: ['contact.created'], maxAttempts: 1, pollMs: HOUR });
    await crm.contacts.create({ name: 'Ada' });
    await flush(clock, 0);
    const parked = (await crm.events.parked('sync')).items.map((p) => p.event.id);
    expect(parked).toHaveLength(1);
    await flush(clock, MIN); // asleep: nothing to do until pollMs
    failing = false;
    expect(await crm.events.replay('sync', parked)).toBe(1);
    await flush(clock, 5);
    expect(got).toEqual(parked);
    await sync.stop();
    await crm.close();
  });

  it('a replay made through another crm instance on the same storage wakes the consumer too', async () => {
    const clock = createFakeClock('2026-03-02T09:00:00.000Z');
    const storage = createMemoryStorage();
    const crm = await createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [events()] });
    const admin = await createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [events()] });
    let failing = true;
    const got: string[] = [];
    await crm.events.consume('sync', (event) => {
      if (failing) throw new Error('down');
      got.push(event.id);
    }, { types: ['contact.created'], maxAttempts: 1, pollMs: HOUR });
    await crm.contacts.create({ name: 'Ada' });
    await flush(clock, MIN);
    const parked = (await admin.events.parked('sync')).items.map((p) => p.event.id);
    failing = false;
    await admin.events.replay('sync', parked);
    await flush(clock, 5);
    expect(got).toEqual(parked);
    await crm.close();
    await admin.close();
  });

  it('a replay landing while the runner looks (after its reads, before it sleeps) is not slept through', async () => {
    const clock = createFakeClock('2026-03-02T09:00:00.000Z');
    const gated = gatedStorage();
    const crm = await createCrm({ storage: gated.storage, clock, tenantId: 't', logger: silentLogger, features: [events()] });
    let failing = true;
    const got: string[] = [];
    await crm.events.consume('sync', (event) => {
      if (failing) throw new Error('down');
      got.push(event.id);
    }, { types: ['contact.created'], maxAttempts: 1, pollMs: HOUR });
    await crm.contacts.create({ name: 'Ada' });
    await flush(clock, MIN);
    const parked = (await crm.events.parked('sync')).items.map((p) => p.event.id);
    expect(parked).toHaveLength(1);
    failing = false;
    // An event the consumer does not take wakes it: it looks (and finds nothing), held after its reads …
    const gate = gated.arm();
    await crm.companies.create({ name: 'Acme' });
    await gate.reached;
    // … the replay commits meanwhile (no loop is asleep to wake), then the look ends with "nothing to do".
    await crm.events.replay('sync', parked);
    gate.release();
    await flush(clock, 5);
    expect(got).toEqual(parked);
    await crm.close();
  });

  it('webhooks: crm.webhooks.replay and crm.events.replay on the endpoint wake a started webhook runner', async () => {
    const clock = createFakeClock('2026-03-02T09:00:00.000Z');
    let failing = true;
    const sent: string[] = [];
    const fetch: WebhookFetch = async (_url, init) => {
      if (!failing) sent.push(init.headers['webhook-id']!);
      return { status: failing ? 503 : 204, text: async () => '' };
    };
    const crm = await createCrm({ storage: createMemoryStorage(), clock, tenantId: 't', logger: silentLogger, features: [events(), webhooks({ fetch, maxAttempts: 1, pollMs: HOUR })] });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created'] });
    crm.webhooks.start();
    await crm.contacts.create({ name: 'Ada' });
    await crm.contacts.create({ name: 'Grace' });
    await flush(clock, MIN);
    // The failed deliveries are signed on WebCrypto's thread pool too: wait in real time for both to park.
    let parked: string[] = [];
    await vi.waitFor(async () => {
      parked = (await crm.events.parked(`webhook:${endpoint.id}`)).items.map((p) => p.event.id);
      expect(parked).toHaveLength(2);
    }, { timeout: 10_000 });
    failing = false;
    await crm.events.replay(`webhook:${endpoint.id}`, [parked[0]!]);
    await flush(clock, 5);
    // Signing runs on WebCrypto's thread pool, outside the event loop `settle` turns: wait in real time.
    await vi.waitFor(() => expect(sent).toEqual([parked[0]]), { timeout: 10_000 });
    await crm.webhooks.replay(endpoint.id, parked[1]!);
    await flush(clock, 5);
    await vi.waitFor(() => expect(sent).toEqual(parked), { timeout: 10_000 });
    await crm.close();
  });
});

describe('a replayed notice wakes scheduler.start()', () => {
  const NOTICES = 'crmkit.scheduler.notices:task.due';

  /** A crm whose due notice was parked (its handler failed 3 times); the scheduler is started and asleep for about an hour. */
  async function parkedNotice() {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const crm = await createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [tasks(), events(), scheduler()] });
    const state = { failing: true, got: [] as string[] };
    crm.on('task.due', (event) => {
      if (state.failing) throw new Error('smtp down');
      state.got.push(event.id);
    });
    await crm.tasks.create({ subject: 'Call', dueAt: '2026-03-02T09:00:00Z' });
    crm.scheduler.start();
    await flush(clock, 0);
    for (let i = 0; i < 10 && (await crm.events.status(NOTICES)).parked === 0; i++) await flush(clock, clock.nextTimerAt()! - clock.now());
    const parked = (await crm.events.parked(NOTICES)).items.map((p) => p.event.id);
    expect(parked).toHaveLength(1);
    await flush(clock, 0);
    // Nothing is due before the overdue notice (an hour after the due time): the scheduler sleeps long.
    expect(clock.nextTimerAt()! - clock.now()).toBeGreaterThan(30 * MIN);
    return { crm, clock, storage, state, parked };
  }

  it('a notice replayed while the scheduler sleeps is delivered within ms, not at its next wake-up', async () => {
    const { crm, clock, state, parked } = await parkedNotice();
    state.failing = false;
    await crm.events.replay(NOTICES, parked);
    await flush(clock, 5);
    expect(state.got).toEqual(parked);
    await crm.scheduler.stop();
    await crm.close();
  });

  it('a notice replayed during a tick, after that tick delivered its type, is delivered right after the tick', async () => {
    const { crm, clock, storage, state, parked } = await parkedNotice();
    state.failing = false;
    // The overdue notice's handler (its type is delivered after task.due in a tick) replays the parked
    // due notice: that tick's task.due pass is over, so only a wake-up after the tick delivers it.
    let replayed = false;
    crm.on('task.overdue', async () => {
      if (replayed) return;
      replayed = true;
      const admin = await createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [events()] });
      await admin.events.replay(NOTICES, parked);
      await admin.close();
    });
    await flush(clock, Date.parse('2026-03-02T10:00:00Z') - clock.now()); // the overdue notice's tick
    expect(replayed).toBe(true);
    await flush(clock, 5);
    expect(state.got).toEqual(parked);
    await crm.scheduler.stop();
    await crm.close();
  });
});

describe('drain() reports what its passes could not take', () => {
  const backoff = { initialMs: 10 * MIN, multiplier: 1, maxMs: 10 * MIN };

  it('an entry queued behind a failing one waits for that retry, not for its own time', async () => {
    const clock = createFakeClock('2026-03-02T09:00:00.000Z');
    const crm = await createCrm({ storage: createMemoryStorage(), clock, tenantId: 't', logger: silentLogger, features: [events()] });
    const c = await crm.events.consume('c', (event) => {
      if (event.type === 'contact.created') throw new Error('down');
    }, { partitions: 1, maxAttempts: 3, backoff, start: false });
    const ada = await crm.contacts.create({ name: 'Ada' });
    await crm.contacts.update(ada.id, { version: ada.version, jobTitle: 'CEO' });
    const report = await c.drain();
    expect({ failed: report.failed, queued: report.queued }).toEqual({ failed: 1, queued: 1 });
    expect(Date.parse(report.nextRetryAt!) - clock.now()).toBeGreaterThanOrEqual(5 * MIN);
    await crm.close();
  });

  it('an entry replayed after its partition was last passed is due now, also when the drain could not take it', async () => {
    const clock = createFakeClock('2026-03-02T09:00:00.000Z');
    const storage = createMemoryStorage();
    const open = () => createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger: silentLogger, features: [events()] });
    const options = { partitions: 1, maxAttempts: 1, start: false, workerId: 'w' } as const;
    const crm = await open();
    const c = await crm.events.consume('c', () => {
      throw new Error('down');
    }, options);
    await crm.contacts.create({ name: 'Grace' });
    await c.drain();
    const parked = (await crm.events.parked('c')).items.map((p) => p.event.id);
    expect(parked).toHaveLength(1);
    // The same worker (a restart with a fixed workerId) still holds the partition from a pass in flight.
    const other = await open();
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release: (() => void) | undefined;
    const holder = await other.events.consume('c', async () => {
      if (release) return;
      entered();
      await new Promise<void>((resolve) => (release = resolve));
    }, options);
    await crm.contacts.create({ name: 'Linus' });
    const held = holder.drain();
    await inHandler;
    clock.advance(1000);
    await crm.events.replay('c', parked);
    const report = await c.drain();

    expect(report).toMatchObject({ handled: 0, leasedElsewhere: true, nextRetryAt: new Date(clock.now()).toISOString() });
    release!();
    await held;
    await crm.close();
    await other.close();
  });
});
