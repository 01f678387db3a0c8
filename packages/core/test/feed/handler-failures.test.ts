import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestCrm } from '@crmkit/core/testing';
import { events } from '@crmkit/core/feed';
import { describeFailure, MAX_FAILURE_TEXT } from '../../src/consumers/describe-failure.js';

function circular(): unknown {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  return value;
}

const { proxy: revoked, revoke } = Proxy.revocable({}, {});
revoke();

/** Values a handler may throw that JSON.stringify (or String) cannot handle. */
const awkward: [string, () => unknown][] = [
  ['a BigInt', () => 5n],
  ['a circular object', circular],
  ['an object whose toJSON throws', () => ({ toJSON: () => { throw new Error('no json'); } })],
  ['an object without a prototype', () => Object.create(null) as unknown],
  ['an Error whose message getter throws', () => Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error('getter'); } })],
  ['a revoked proxy', () => revoked],
  ['a symbol', () => Symbol('s')],
  ['undefined', () => undefined],
];

describe('handler failures: describing what was thrown', () => {
  it('never throws and stays bounded, whatever the value', () => {
    for (const [, make] of awkward) {
      const text = describeFailure(make());
      expect(typeof text).toBe('string');
      expect(text.length).toBeGreaterThan(0);
    }
    expect(describeFailure(5n)).toBe('5');
    expect(describeFailure(new TypeError('bad'))).toBe('TypeError: bad');
    expect(describeFailure('x'.repeat(5000))).toHaveLength(MAX_FAILURE_TEXT + 1);
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }), (value) => {
        const text = describeFailure(value);
        return typeof text === 'string' && text.length >= 1 && text.length <= MAX_FAILURE_TEXT + 1;
      }),
    );
  });

  it('adds the code and message of an error\'s cause (what fetch says about a network failure)', () => {
    const failed = (cause: unknown) => new TypeError('fetch failed', { cause });
    const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
    expect(describeFailure(failed(withCode('connect ECONNREFUSED 127.0.0.1:4000', 'ECONNREFUSED')))).toBe('TypeError: fetch failed (connect ECONNREFUSED 127.0.0.1:4000)');
    expect(describeFailure(failed(withCode('getaddrinfo ENOTFOUND nonexistent.invalid', 'ENOTFOUND')))).toBe('TypeError: fetch failed (getaddrinfo ENOTFOUND nonexistent.invalid)');
    expect(describeFailure(failed(withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')))).toBe('TypeError: fetch failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate)');
    // Several addresses tried (IPv6 and IPv4): an AggregateError without a message of its own.
    const both = Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:4000', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:4000', 'ECONNREFUSED')], ''), { code: 'ECONNREFUSED' });
    expect(describeFailure(failed(both))).toBe('TypeError: fetch failed (ECONNREFUSED)');
    expect(describeFailure(failed(new Error('bad port')))).toBe('TypeError: fetch failed (bad port)');
    expect(describeFailure(failed(Object.assign(new Error(''), { code: 'ECONNRESET' })))).toBe('TypeError: fetch failed (ECONNRESET)');
    expect(describeFailure(failed({}))).toBe('TypeError: fetch failed');
    expect(describeFailure(failed('text'))).toBe('TypeError: fetch failed');
    expect(describeFailure(failed(Object.defineProperty({}, 'code', { get: () => { throw new Error('getter'); } })))).toBe('TypeError: fetch failed');
  });

  it.each(awkward)('records the attempt and parks the event after maxAttempts when the handler throws %s', async (_, make) => {
    const { crm, clock } = await createTestCrm();
    const contact = await crm.contacts.create({ name: 'Poison' });
    let calls = 0;
    const consumer = await crm.events.consume(
      'awkward',
      () => {
        calls++;
        throw make();
      },
      { start: false, partitions: 1, maxAttempts: 2, backoff: { initialMs: 1000, multiplier: 1, maxMs: 1000 } },
    );
    expect(await consumer.drain()).toMatchObject({ failed: 1, parked: 0 });
    const failing = await consumer.status();
    expect(failing).toMatchObject({ pending: 1, parked: 0, failures: 1, lag: 0 });
    expect(typeof failing.lastError?.message).toBe('string');
    clock.advance(1000);
    expect(await consumer.drain()).toMatchObject({ parked: 1 });
    expect(calls).toBe(2);
    expect(await consumer.status()).toMatchObject({ pending: 0, parked: 1, failures: 2 });
    const parked = await crm.events.parked('awkward');
    expect(parked.items.map((p) => [p.event.subjectId, p.attempts])).toEqual([[contact.id, 2]]);
    expect(parked.items[0]!.lastError!.message.length).toBeGreaterThan(0);
  });
});

describe('consumer status', () => {
  it('counts an event waiting for a retry in lagMs, even with the checkpoint at the head', async () => {
    const { crm, clock } = await createTestCrm({ features: [events()] });
    const stuck = await crm.contacts.create({ name: 'Stuck' });
    const consumer = await crm.events.consume(
      'lag-probe',
      (event) => {
        if (event.subjectId === stuck.id) throw new Error('down');
      },
      { start: false, maxAttempts: 10, backoff: { initialMs: 60_000, multiplier: 1, maxMs: 60_000 } },
    );
    await consumer.drain();
    clock.advance(3_600_000);
    const status = await consumer.status();
    expect(status).toMatchObject({ lag: 0, pending: 1 });
    expect(status.lagMs).toBeGreaterThanOrEqual(3_600_000);
  });
});

describe('onPass callbacks', () => {
  it('a throwing or rejecting (async) onPass is logged, never an unhandled rejection, and the work stands', async () => {
    const logged: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (message: string, data?: { error?: unknown }) => void logged.push(`${message}: ${(data?.error as Error | undefined)?.message}`) };
    const { crm } = await createTestCrm({ logger });
    await crm.contacts.create({ name: 'Ada' });
    const sync = await crm.events.consume('sync', () => undefined, { start: false, partitions: 1, onPass: () => { throw new Error('sync boom'); } });
    const async = await crm.events.consume('async', () => undefined, { start: false, partitions: 1, onPass: async () => { throw new Error('async boom'); } });
    expect((await sync.drain()).handled).toBeGreaterThan(0);
    expect((await async.drain()).handled).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(logged).toEqual(['crmkit: an onPass callback threw: sync boom', 'crmkit: an onPass callback threw: async boom']);
    expect((await async.status()).lag).toBe(0);
    await crm.close();
  });
});
