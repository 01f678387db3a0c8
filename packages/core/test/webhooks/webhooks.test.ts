import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { CrmError, createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import type { WriteOp } from '@crmkit/core/storage';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhooksOptions } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';
import { startWebhookServer, type WebhookServer } from './webhook-server.js';

const servers: WebhookServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function setup(options: WebhooksOptions = {}, storage: StorageAdapter = createMemoryStorage()) {
  const server = await startWebhookServer();
  servers.push(server);
  // Real time as the start: receivers (the oracle) check the signed timestamp against their own clock.
  const t = await createTestCrm({ now: Date.now(), storage: storage as never, features: [webhooks({ timeoutMs: 2000, leaseMs: 10_000, ...options }), events()] });
  return { ...t, server };
}

/** A memory storage whose writes first pass `beforeWrite`, which may throw: a crash or a lost race, injected. */
function faultyStorage(beforeWrite: (entity: string, ops: readonly WriteOp[]) => void): StorageAdapter {
  const memory = createMemoryStorage();
  return {
    ...memory,
    open: (s) => memory.open(s),
    onChange: (l) => memory.onChange(l),
    close: () => memory.close(),
    transaction: (mode, fn) =>
      memory.transaction(mode, (tx) =>
        fn({
          getMany: tx.getMany,
          query: tx.query,
          aggregate: tx.aggregate,
          nextSequence: tx.nextSequence,
          claim: tx.claim,
          lockKeys: tx.lockKeys,
          write: async (entity, tenant, ops) => {
            beforeWrite(entity, ops);
            return tx.write(entity, tenant, ops);
          },
        }),
      ),
  };
}

/** Verifies a received request with the official Standard Webhooks library. */
function verify(secret: string, request: { headers: Record<string, string>; body: string }): unknown {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': request.headers['webhook-id']!,
    'webhook-timestamp': request.headers['webhook-timestamp']!,
    'webhook-signature': request.headers['webhook-signature']!,
  });
}

describe('webhooks', () => {
  it('delivers events committed after the endpoint was created, filtered by type, signed per Standard Webhooks', async () => {
    const { crm, server, clock } = await setup();
    await crm.contacts.create({ name: 'Before' });
    const { id, secret } = await crm.webhooks.create({ url: server.url, types: ['contact.created', 'contact.updated'] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const ada = await crm.contacts.create({ name: 'Ada' });
    await crm.contacts.update(ada.id, { version: ada.version, jobTitle: 'Engineer' });
    await crm.companies.create({ name: 'Not subscribed' });
    await crm.webhooks.drain();

    expect(server.received).toHaveLength(2);
    const [created, updated] = server.received;
    expect(created!.headers['content-type']).toBe('application/json');
    expect(created!.headers['webhook-timestamp']).toBe(String(Math.floor(clock.now() / 1000)));
    const payload = verify(secret, created!) as { type: string; timestamp: string; data: { contact: { name: string } }; event: { id: string; position: number; subjectId: string; tenantId: string } };
    expect(payload).toMatchObject({ type: 'contact.created', data: { contact: { name: 'Ada' } }, event: { subjectId: ada.id, tenantId: 'test' } });
    expect(created!.headers['webhook-id']).toBe(payload.event.id);
    expect(verify(secret, updated!)).toMatchObject({ type: 'contact.updated', data: { changes: { jobTitle: { to: 'Engineer' } } } });
    // A forged body fails the oracle.
    expect(() => verify(secret, { ...created!, body: created!.body.replace('Ada', 'Eve') })).toThrow();

    const log = await crm.webhooks.deliveries(id);
    expect(log.items.map((a) => [a.eventType, a.status, a.httpStatus, a.attempt])).toEqual([
      ['contact.updated', 'succeeded', 204, 1],
      ['contact.created', 'succeeded', 204, 1],
    ]);
    expect(await crm.webhooks.status(id)).toMatchObject({ lag: 0, pending: 0, parked: 0, handled: 2 });
  });

  it('retries 5xx and timeouts with growing, jittered delays, logs every attempt, and succeeds later', async () => {
    const { crm, server, clock } = await setup({ timeoutMs: 1000, backoff: { initialMs: 1000, multiplier: 10, maxMs: 3_600_000 } });
    const { id, secret } = await crm.webhooks.create({ url: server.url });
    server.respond = (_request, index) => (index === 0 ? { status: 503 } : index === 1 ? { status: 200, delayMs: 4000 } : { status: 200 });
    await crm.contacts.create({ name: 'Ada' });
    await crm.webhooks.drain();
    expect(server.received).toHaveLength(1);
    const afterFirst = await crm.webhooks.status(id);
    expect(afterFirst).toMatchObject({ pending: 1 });

    clock.advance(999 + 1); // the second attempt is due within [500, 1000] ms
    await crm.webhooks.drain();
    expect(server.received).toHaveLength(2); // timed out
    clock.advance(5000); // not due yet: delay is between 5 and 10 s
    await crm.webhooks.drain();
    expect(server.received).toHaveLength(2);
    clock.advance(5000);
    await crm.webhooks.drain();
    expect(server.received).toHaveLength(3);
    const log = (await crm.webhooks.deliveries(id)).items.reverse();
    expect(log.map((a) => [a.attempt, a.status, a.httpStatus ?? null])).toEqual([
      [1, 'failed', 503],
      [2, 'failed', null],
      [3, 'succeeded', 200],
    ]);
    expect(log[1]!.error).toMatch(/timed out after 1000 ms/);
    // Every attempt carried the same message id and a valid signature.
    expect(new Set(server.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const request of server.received) verify(secret, request);
    expect(await crm.webhooks.status(id)).toMatchObject({ pending: 0, parked: 0 });
  });

  it('parks a delivery after maxAttempts, disables an endpoint that keeps failing, and delivers what it missed once enabled', async () => {
    const { crm, server, clock } = await setup({ partitions: 1, maxAttempts: 2, backoff: { initialMs: 1000, multiplier: 1, maxMs: 1000 }, disableAfter: { failures: 3, ms: 0 } });
    const seen: string[] = [];
    crm.on('webhook.disabled', (e) => seen.push(e.data.reason));
    const { id } = await crm.webhooks.create({ url: server.url });
    server.respond = () => ({ status: 500 });
    const a = await crm.contacts.create({ name: 'A' });
    const b = await crm.contacts.create({ name: 'B' });
    await crm.webhooks.drain(); // A and B fail once (2 failures)
    clock.advance(1000);
    await crm.webhooks.drain(); // A fails again: parked; third failure disables the endpoint; B waits (no attempt counted)
    const endpoint = await crm.webhooks.get(id);
    expect(endpoint).toMatchObject({ status: 'disabled', consecutiveFailures: 3 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/3 failed attempts in a row/);
    const parked = await crm.events.parked(`webhook:${id}`);
    expect(parked.items.map((p) => p.event.subjectId)).toContain(a.id);

    // While disabled nothing is sent; what happens meanwhile waits.
    server.respond = () => ({ status: 200 });
    const c = await crm.contacts.create({ name: 'C' });
    clock.advance(10_000);
    await crm.webhooks.drain();
    const sentWhileDisabled = server.received.length;
    expect(sentWhileDisabled).toBe(3);

    await crm.webhooks.enable(id);
    await crm.webhooks.drain();
    clock.advance(10_000);
    await crm.webhooks.drain();
    const delivered = server.received.slice(sentWhileDisabled).map((r) => JSON.parse(r.body) as { type: string; event: { subjectId: string } });
    // B's retry, C (created while disabled) and the endpoint's own webhook.disabled event.
    expect(delivered.map((d) => (d.type === 'webhook.disabled' ? d.type : d.event.subjectId)).sort()).toEqual([b.id, c.id, 'webhook.disabled'].sort());
    expect(await crm.webhooks.get(id)).toMatchObject({ status: 'enabled', consecutiveFailures: 0 });

    // Replaying the parked delivery sends it again.
    await crm.webhooks.replay(id, parked.items[0]!.event.id);
    await crm.webhooks.drain();
    const last = server.received[server.received.length - 1]!;
    expect((JSON.parse(last.body) as { event: { subjectId: string } }).event.subjectId).toBe(a.id);
    expect((await crm.webhooks.deliveries(id, { eventId: parked.items[0]!.event.id })).items[0]).toMatchObject({ status: 'succeeded', replayed: true });
  });

  it('signs with the new and the previous secret during a rotation, then with the new one only', async () => {
    const { crm, server, clock } = await setup();
    const { id, secret: old } = await crm.webhooks.create({ url: server.url });
    const rotated = await crm.webhooks.rotateSecret(id, { keepPreviousForMs: 60_000 });
    expect(rotated.secret).not.toBe(old);
    expect(await crm.webhooks.secret(id)).toBe(rotated.secret);
    await crm.contacts.create({ name: 'During' });
    await crm.webhooks.drain();
    const during = server.received[0]!;
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    verify(old, during);
    verify(rotated.secret, during);
    clock.advance(60_001);
    await crm.contacts.create({ name: 'After' });
    await crm.webhooks.drain();
    const after = server.received[1]!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    verify(rotated.secret, after);
    expect(() => verify(old, after)).toThrow();
  });

  it('never sends again a delivery recorded as succeeded when its checkpoint was lost (a crash between the two)', async () => {
    let crashOnce = false;
    const storage = faultyStorage((entity, ops) => {
      if (crashOnce && entity === 'consumer' && ops.some((o) => o.type === 'update' && !('leaseToken' in o.row))) {
        crashOnce = false;
        throw new Error('process killed before its checkpoint');
      }
    });
    const { crm, server, clock } = await setup({ leaseMs: 10_000, partitions: 1 }, storage);
    const { id } = await crm.webhooks.create({ url: server.url });
    await crm.contacts.create({ name: 'Once' });
    crashOnce = true;
    await expect(crm.webhooks.drain()).rejects.toThrow(/process killed/);
    expect(server.received).toHaveLength(1);
    clock.advance(10_001); // the dead worker's lease expires
    await crm.webhooks.drain();
    expect(server.received).toHaveLength(1);
    expect((await crm.webhooks.deliveries(id)).items.map((a) => a.status)).toEqual(['succeeded']);
    expect(await crm.webhooks.status(id)).toMatchObject({ lag: 0 });
  });

  it('delivers one record’s events in commit order', async () => {
    const { crm, server } = await setup({ partitions: 4 });
    await crm.webhooks.create({ url: server.url, types: ['contact.created', 'contact.updated'] });
    let contact = await crm.contacts.create({ name: 'v0' });
    for (let i = 1; i <= 5; i++) contact = await crm.contacts.update(contact.id, { version: contact.version, jobTitle: `v${i}` });
    await crm.webhooks.drain();
    const positions = server.received.map((r) => (JSON.parse(r.body) as { event: { position: number } }).event.position);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(positions).toHaveLength(6);
  });

  it('never sends an acknowledged delivery again when the endpoint row keeps conflicting (every partition updates it)', async () => {
    let conflicts = 0;
    const storage = faultyStorage((entity, ops) => {
      // Other processes win every race on the endpoint's health row, more often than any retry budget.
      if (conflicts > 0 && entity === 'webhookEndpoint' && ops.some((o) => o.type === 'update')) {
        conflicts--;
        throw new CrmError('CONFLICT', 'webhookEndpoint changed concurrently', { entity, id: 'x', expectedVersion: 1, actualVersion: 2 });
      }
    });
    const { crm, server, clock } = await setup({ partitions: 1 }, storage);
    const { id } = await crm.webhooks.create({ url: server.url });
    await crm.contacts.create({ name: 'Once' });
    conflicts = 1000;
    await crm.webhooks.drain();
    clock.advance(3_600_000);
    await crm.webhooks.drain();
    expect(server.received).toHaveLength(1);
    expect((await crm.webhooks.deliveries(id)).items.map((a) => a.status)).toEqual(['succeeded']);
    expect(await crm.webhooks.status(id)).toMatchObject({ lag: 0, pending: 0, parked: 0, handled: 1 });
    conflicts = 0;
  });

  it('replays into the partitions the endpoint was created with, after the partitions option changed', async () => {
    const storage = createMemoryStorage();
    const server = await startWebhookServer();
    servers.push(server);
    const first = await createTestCrm({ now: Date.now(), storage, closeStorage: false, features: [webhooks({ partitions: 4 }), events()] });
    const endpoint = await first.crm.webhooks.create({ url: server.url });
    for (let i = 0; i < 8; i++) await first.crm.contacts.create({ name: `C${i}` });
    await first.crm.webhooks.drain();
    await first.crm.close();
    expect(server.received).toHaveLength(8);
    // Redeployed with another partition count (it applies to new endpoints only).
    const second = await createTestCrm({ now: Date.now(), storage, features: [webhooks({ partitions: 8 }), events()] });
    const page = await second.crm.events.read({ after: 0, types: ['contact.created'] });
    for (const event of page.events) await second.crm.webhooks.replay(endpoint.id, event.id);
    await second.crm.webhooks.drain();
    expect(server.received).toHaveLength(16);
    expect(await second.crm.webhooks.status(endpoint.id)).toMatchObject({ pending: 0 });
  });

  it('refuses to replay an event type the endpoint does not take (it would send nothing)', async () => {
    const { crm, server, storage } = await setup();
    const { id } = await crm.webhooks.create({ url: server.url, types: ['deal.won'] });
    await crm.contacts.create({ name: 'Ada' });
    const [event] = (await crm.events.read({ after: 0, types: ['contact.created'] })).events;
    const before = storage.snapshot();
    const error = await expectCrmError(crm.webhooks.replay(id, event!.id), 'VALIDATION');
    expect(error.details.issues[0]).toMatchObject({ path: ['eventId'], code: 'type_not_subscribed' });
    expect(storage.snapshot()).toEqual(before);
  });

  it('events.replay of a parked delivery whose type the endpoint no longer takes: VALIDATION as webhooks.replay, nothing changes', async () => {
    const { crm, server, storage } = await setup({ maxAttempts: 1 });
    server.respond = () => ({ status: 503 });
    const { id } = await crm.webhooks.create({ url: server.url });
    await crm.contacts.create({ name: 'Ada' });
    await crm.webhooks.drain();
    const [parked] = (await crm.events.parked(`webhook:${id}`)).items;
    const endpoint = await crm.webhooks.get(id);
    await crm.webhooks.update(id, { version: endpoint.version, types: ['deal.won'] });
    const before = storage.snapshot();
    for (const replay of [crm.webhooks.replay(id, parked!.event.id), crm.events.replay(`webhook:${id}`, [parked!.event.id])]) {
      const error = await expectCrmError(replay, 'VALIDATION');
      expect(error.details.issues[0]).toMatchObject({ code: 'type_not_subscribed' });
    }
    expect(storage.snapshot()).toEqual(before);
    expect((await crm.events.parked(`webhook:${id}`)).items.map((p) => p.event.id)).toEqual([parked!.event.id]);
  });

  it('refuses bad endpoints and options with VALIDATION, writing nothing', async () => {
    const { crm, storage } = await setup();
    const before = storage.snapshot();
    const cases: [unknown, string][] = [
      [{ url: 'ftp://example.com/x' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'http://example.com/hooks' }, 'url'],
      [{ url: 'https://user:pw@example.com/hooks' }, 'url'],
      [{ url: 'https://example.com/hooks', secret: 'whsec_c2hvcnQ=' }, 'secret'],
      [{ url: 'https://example.com/hooks', secret: 'plain-secret-without-prefix-plain-secret' }, 'secret'],
      [{ url: 'https://example.com/hooks', types: ['deal'] }, 'types.0'],
      [{ url: 'https://example.com/hooks', retries: 3 }, ''],
      [{ url: ' https://example.com/hooks ' }, 'url'],
      [{ url: 'https://example.com\n/hooks' }, 'url'],
      [{ url: 'https://example.com/hooks#' }, 'url'],
      [{ url: 'https://example.com/hooks', types: ['deal.wonn'] }, 'types.0'],
      // The WHATWG parser would call another host than the one stored (soft hyphen, zero-width space, %xx,
      // IPv4 shorthand, punycode), or no host as typed (no `//`), or port 0.
      ...['https://ex\u00ADample.com/h', 'https://exam\u200Bple.com/h', 'https://ex%61mple.com/h', 'http://127.1/h', 'https://\u0435xample.com/h',
        'https:example.com/h', 'https:/example.com/h', 'https://example.com:0/h', 'https://example.com\\@evil.com/h'].map((url): [unknown, string] => [{ url }, 'url']),
    ];
    for (const [input, path] of cases) {
      const error = await expectCrmError(crm.webhooks.create(input as never), 'VALIDATION');
      if (path) expect(issuePaths(error)).toContain(path);
    }
    expect(storage.snapshot()).toEqual(before);
    await expectCrmError(crm.webhooks.get('whep_missing'), 'NOT_FOUND');
    await expectCrmError(crm.webhooks.replay('whep_missing', 'evt_x'), 'NOT_FOUND');
    const https = await crm.webhooks.create({ url: 'https://example.com/hooks' });
    await expectCrmError(crm.webhooks.update(https.id, { version: 99, description: 'stale' }), 'CONFLICT');
    await expectCrmError(crm.webhooks.replay(https.id, 'evt_never'), 'NOT_FOUND');
    expect(() => webhooks({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => webhooks({ timeoutMs: 5000, leaseMs: 5000 })).toThrow(/leaseMs/);
    expect(() => webhooks({ fetch: 'nope' as never })).toThrow(/fetch/);
    expect(() => webhooks({ partitions: 3 })).toThrow(/partitions/);
    expect(() => webhooks({ unknown: true } as never)).toThrow(/unknown/i);
    for (const options of [null, [], 'fast', 5]) expect(() => webhooks(options as never)).toThrow(/options object/);
    expect(() => webhooks({ backoff: { initialMs: 60_000, maxMs: 1000 } })).toThrow(/maxMs/);
    // Case and a default port are the same host.
    for (const url of ['https://EXAMPLE.com:443/h', 'https://example.com:8443/h', 'http://localhost:3000/h', 'https://[::1]/h']) expect((await crm.webhooks.create({ url })).url).toBe(url);
    const typo = await crm.webhooks.create({ url: 'https://example.com/h' });
    await expectCrmError(crm.webhooks.update(typo.id, { version: typo.version, url: 'https://exam\u200Bple.com/h' }), 'VALIDATION');
    // An automation's custom events are event types too.
    expect((await crm.webhooks.create({ url: 'https://example.com/hooks', types: ['custom.orderShipped'] })).types).toEqual(['custom.orderShipped']);
  });
});
