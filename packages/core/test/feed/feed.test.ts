import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, type CrmEvent, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { createFakeClock, createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

async function crmWithContacts(count: number) {
  const t = await createTestCrm();
  const contacts = [];
  for (let i = 0; i < count; i++) contacts.push(await t.crm.contacts.create({ name: `Contact ${i}` }));
  return { ...t, contacts };
}

describe('change feed: read', () => {
  it('gives every event a position 1, 2, 3… in commit order, also in a multi-event operation', async () => {
    const { crm } = await crmWithContacts(3);
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
    await crm.deals.create({ title: 'Chairs', pipelineId: pipeline.id, currency: 'EUR' });
    const page = await crm.events.read({ limit: 1000 });
    expect(page.events.map((e) => e.position)).toEqual(page.events.map((_, i) => i + 1));
    expect(page.head).toBe(page.events.length);
    expect(page.position).toBe(page.head);
    expect(page.hasMore).toBe(false);
    expect(page.events.every((e) => Number.isInteger(e.shard) && e.shard! >= 0 && e.shard! < 256)).toBe(true);
    // The emitted event and the stored one carry the same position.
    const seen: CrmEvent[] = [];
    crm.on('*', (e) => seen.push(e));
    await crm.contacts.create({ name: 'Later' });
    expect(seen.map((e) => e.position)).toEqual([page.head + 1]);
    expect((await crm.events.read({ after: page.head })).events.map((e) => e.id)).toEqual(seen.map((e) => e.id));
  });

  it('pages with after/limit, filters by type and moves the checkpoint past skipped events', async () => {
    const { crm, contacts } = await crmWithContacts(5);
    await crm.contacts.update(contacts[0]!.id, { version: contacts[0]!.version, jobTitle: 'CEO' });
    const first = await crm.events.read({ limit: 2 });
    expect(first.events.map((e) => e.position)).toEqual([1, 2]);
    expect(first).toMatchObject({ position: 2, hasMore: true, head: 6 });
    const rest = await crm.events.read({ after: first.position, limit: 10 });
    expect(rest.events.map((e) => e.position)).toEqual([3, 4, 5, 6]);
    const updates = await crm.events.read({ types: ['contact.updated'] });
    expect(updates.events.map((e) => [e.type, e.position])).toEqual([['contact.updated', 6]]);
    const none = await crm.events.read({ types: ['deal.won'] });
    expect(none).toMatchObject({ events: [], position: 6, head: 6, hasMore: false });
    expect(await crm.events.head()).toBe(6);
  });

  it('refuses bad read options with VALIDATION', async () => {
    const { crm } = await createTestCrm();
    for (const options of [{ after: -1 }, { after: 1.5 }, { limit: 0 }, { limit: 1001 }, { types: ['nope'] }, { types: [] }, { cursor: 'x' }]) {
      await expectCrmError(crm.events.read(options as never), 'VALIDATION');
    }
  });
});

describe('change feed: consumers', () => {
  it('hands every event to the handler once, in commit order per record, and resumes from the stored checkpoint', async () => {
    const storage = createMemoryStorage();
    const { crm, clock } = await createTestCrm({ storage });
    const contacts = [];
    for (let i = 0; i < 6; i++) contacts.push(await crm.contacts.create({ name: `C${i}` }));
    for (const c of contacts) await crm.contacts.update(c.id, { version: c.version, jobTitle: 'Buyer' });
    const seen: CrmEvent[] = [];
    const consumer = await crm.events.consume('audit', (event) => void seen.push(event), { start: false, partitions: 4 });
    const report = await consumer.drain();
    expect(report.handled).toBe(12);
    expect(new Set(seen.map((e) => e.id)).size).toBe(12);
    for (const c of contacts) expect(seen.filter((e) => e.subjectId === c.id).map((e) => e.type)).toEqual(['contact.created', 'contact.updated']);
    const status = await consumer.status();
    expect(status).toMatchObject({ name: 'audit', lag: 0, head: 12, pending: 0, parked: 0, handled: 12 });

    // Another crm on the same storage (another process) continues after the checkpoint.
    await crm.contacts.create({ name: 'New' });
    const other = await createCrm({ storage, tenantId: 'test', clock, logger: silentLogger, closeStorage: false, features: [events()] });
    const later: string[] = [];
    await (await other.events.consume('audit', (event) => void later.push(event.type), { start: false, partitions: 4 })).drain();
    expect(later).toEqual(['contact.created']);
  });

  it('retries a failing event with backoff, queues the record’s later events behind it, lets other records pass, parks it after maxAttempts', async () => {
    const { crm, clock } = await crmWithContacts(0);
    const bad = await crm.contacts.create({ name: 'Poison' });
    await crm.contacts.create({ name: 'Fine' });
    await crm.contacts.update(bad.id, { version: bad.version, jobTitle: 'x' });
    const calls: string[] = [];
    const consumer = await crm.events.consume(
      'flaky',
      (event, context) => {
        calls.push(`${event.type}:${event.subjectId === bad.id ? 'bad' : 'good'}:${context.attempt}`);
        if (event.subjectId === bad.id && event.type === 'contact.created') throw new Error('boom');
      },
      { start: false, partitions: 1, maxAttempts: 3, backoff: { initialMs: 1000, multiplier: 2, maxMs: 60_000 } },
    );
    const first = await consumer.drain();
    expect(calls).toEqual(['contact.created:bad:1', 'contact.created:good:1']);
    expect(first).toMatchObject({ handled: 1, failed: 1, queued: 1 });
    expect(await consumer.status()).toMatchObject({ pending: 2, parked: 0, lag: 0 });

    await consumer.drain(); // not due yet: nothing happens
    expect(calls).toHaveLength(2);
    clock.advance(1000);
    await consumer.drain();
    expect(calls.slice(2)).toEqual(['contact.created:bad:2']);
    clock.advance(60_000);
    await consumer.drain();
    // Third attempt fails: parked; the record's queued update goes on at once.
    expect(calls.slice(3)).toEqual(['contact.created:bad:3', 'contact.updated:bad:1']);
    expect(await consumer.status()).toMatchObject({ pending: 0, parked: 1, failures: 3, lastError: { message: 'boom' } });
    const parked = await crm.events.parked('flaky');
    expect(parked.items.map((p) => [p.event.type, p.attempts, p.lastError?.message])).toEqual([['contact.created', 3, 'boom']]);

    await expectCrmError(crm.events.replay('flaky', ['evt_unknown']), 'NOT_FOUND');
    expect(await crm.events.replay('flaky', [parked.items[0]!.event.id])).toBe(1);
    await consumer.drain();
    expect(calls.slice(5)).toEqual(['contact.created:bad:1']);
    expect(await consumer.status()).toMatchObject({ pending: 1, parked: 0 });
    clock.advance(120_000);
    await consumer.drain();
    clock.advance(120_000);
    await consumer.drain();
    expect((await crm.events.parked('flaky')).items).toHaveLength(1);
    expect(await crm.events.discard('flaky', [parked.items[0]!.event.id])).toBe(1);
    expect(await consumer.status()).toMatchObject({ pending: 0, parked: 0 });
  });

  it('a handler that hangs times out, is retried, and its signal is aborted', async () => {
    const { crm, clock } = await crmWithContacts(1);
    let aborted = false;
    let hang = true;
    const consumer = await crm.events.consume(
      'slow',
      (_event, context) =>
        hang
          ? new Promise((resolve) => {
              context.signal.addEventListener('abort', () => {
                aborted = true;
                resolve(undefined);
              });
            })
          : undefined,
      { start: false, partitions: 1, handlerTimeoutMs: 30, leaseMs: 1000 },
    );
    expect(await consumer.drain()).toMatchObject({ failed: 1, handled: 0 });
    expect(aborted).toBe(true);
    expect((await consumer.status()).lastError?.message).toMatch(/did not finish within 30 ms/);
    hang = false;
    clock.advance(10_000);
    expect(await consumer.drain()).toMatchObject({ handled: 1 });
  });

  it('two workers (two crm instances on one storage) share the partitions and handle each event once', async () => {
    const storage = createMemoryStorage();
    const clock = createFakeClock();
    const make = () => createCrm({ storage, tenantId: 'acme', clock, logger: silentLogger, closeStorage: false, features: [events()] });
    const [a, b] = [await make(), await make()];
    for (let i = 0; i < 40; i++) await (i % 2 ? a : b).contacts.create({ name: `C${i}` });
    const handled: string[] = [];
    const handler = async (event: CrmEvent) => {
      handled.push(event.id);
      await new Promise((resolve) => setTimeout(resolve, 1));
    };
    const [ca, cb] = [await a.events.consume('shared', handler, { start: false, batchSize: 3 }), await b.events.consume('shared', handler, { start: false, batchSize: 3 })];
    await Promise.all([ca.drain(), cb.drain(), ca.drain()]);
    await ca.drain();
    expect(handled.length).toBe(40);
    expect(new Set(handled).size).toBe(40);
    expect(await a.events.status('shared')).toMatchObject({ lag: 0, handled: 40 });
  });

  it('runs in the background: new events wake it; stop() stops it; crm.close() stops the rest', async () => {
    const { crm } = await crmWithContacts(1);
    const seen: string[] = [];
    const consumer = await crm.events.consume('live', (event) => void seen.push(event.type), { pollMs: 10_000 });
    expect(consumer.running).toBe(true);
    const until = async (n: number) => {
      for (let i = 0; i < 200 && seen.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    await until(1);
    await crm.contacts.create({ name: 'Woken' });
    await until(2);
    expect(seen).toEqual(['contact.created', 'contact.created']);
    await consumer.stop();
    expect(consumer.running).toBe(false);
    const again = await crm.events.consume('live', () => undefined);
    await crm.close();
    expect(again.running).toBe(false);
  });

  it('prunes the feed up to the slowest consumer and tells readers behind it', async () => {
    const { crm } = await crmWithContacts(6);
    const fast = await crm.events.consume('fast', () => undefined, { start: false });
    await fast.drain();
    // A consumer that has handled up to position 2 holds the rest back.
    await crm.events.consume('slower', () => undefined, { start: false, partitions: 1, from: 2 });
    expect(await crm.events.prune()).toEqual({ deleted: 2, through: 2 });
    const page = await crm.events.read();
    expect(page.prunedThrough).toBe(2);
    expect(page.events.map((e) => e.position)).toEqual([3, 4, 5, 6]);
    expect((await crm.events.prune({ through: 1 })).deleted).toBe(0);
  });

  it('refuses bad consumer input with VALIDATION and writes nothing', async () => {
    const { crm, storage } = await crmWithContacts(1);
    const before = storage.snapshot();
    const noop = () => undefined;
    const cases: [string, unknown, unknown, string][] = [
      ['bad name!', noop, {}, '(input)'],
      ['ok', 'not a function', {}, 'handler'],
      ['ok', noop, { partitions: 3 }, 'partitions'],
      ['ok', noop, { partitions: 512 }, 'partitions'],
      ['ok', noop, { unknownOption: 1 }, '(input)'],
      ['ok', noop, { handlerTimeoutMs: 5000, leaseMs: 5000 }, 'handlerTimeoutMs'],
      ['ok', noop, { types: ['deal'] }, 'types.0'],
      ['ok', noop, { backoff: { initialMs: 0 } }, 'backoff.initialMs'],
      ['ok', noop, { from: 'yesterday' }, 'from'],
      ['ok', noop, { onPass: 'x' }, 'options.onPass'],
    ];
    for (const [name, handler, options, path] of cases) {
      const error = await expectCrmError(crm.events.consume(name, handler as never, options as never), 'VALIDATION');
      expect(issuePaths(error).join(' ')).toContain(path === '(input)' ? '' : path);
    }
    expect(storage.snapshot()).toEqual(before);
    await (await crm.events.consume('fixed', noop, { start: false, partitions: 2 })).stop();
    const mismatch = await expectCrmError(crm.events.consume('fixed', noop, { start: false, partitions: 4 }), 'VALIDATION');
    expect(issuePaths(mismatch)).toEqual(['partitions']);
    await expectCrmError(crm.events.status('nobody'), 'NOT_FOUND');
  });
});

describe('change feed: leases', () => {
  it('renews a lease running short, so a slow commit never hands handled events to another worker', async () => {
    const memory = createMemoryStorage();
    let slowCommit: (() => Promise<void>) | undefined;
    // The next write transaction after the last handler call is the pass's commit: make it start late.
    const storage: StorageAdapter = {
      ...memory,
      open: (s) => memory.open(s),
      onChange: (l) => memory.onChange(l),
      close: () => memory.close(),
      transaction: async (mode, fn) => {
        const delay = mode === 'rw' ? slowCommit : undefined;
        if (mode === 'rw') slowCommit = undefined;
        await delay?.();
        return memory.transaction(mode, fn);
      },
    };
    const { crm, clock } = await createTestCrm({ storage: storage as never, features: [events()] });
    const first = await crm.contacts.create({ name: 'First' });
    await crm.contacts.create({ name: 'Second' });
    const other = await createCrm({ storage, tenantId: 'test', clock, logger: silentLogger, closeStorage: false, features: [events()] });
    const calls: string[] = [];
    const options = { start: false, partitions: 1, leaseMs: 1000, handlerTimeoutMs: 300 } as const;
    const otherWorker = await other.events.consume('leased', (event) => void calls.push(`other:${event.subjectId}`), options);
    const worker = await crm.events.consume(
      'leased',
      (event) => {
        calls.push(`worker:${event.subjectId}`);
        // Handlers stay within handlerTimeoutMs; the first leaves 360 ms of the lease, the second 70 ms.
        if (event.subjectId === first.id) return void clock.advance(640);
        clock.advance(290);
        slowCommit = async () => {
          clock.advance(100); // the commit waits (a connection, a lock) past the original lease
          await otherWorker.drain(); // another worker tries to claim meanwhile
        };
      },
      options,
    );
    await worker.drain();
    expect(calls.filter((c) => c.startsWith('other:'))).toEqual([]);
    expect(calls).toHaveLength(2);
    expect(await worker.status()).toMatchObject({ lag: 0, handled: 2 });
  });
});
