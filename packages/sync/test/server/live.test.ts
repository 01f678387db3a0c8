import { describe, expect, it } from 'vitest';
import { ADAPTERS, serverOf } from './support.js';

/** Design sync.md §9, server side: pokes after committed changes, long polls, close. */
describe('sync live signal', () => {
  it('the stream is proxy-proof: anti-buffering headers, no connection header, a first chunk of 2 KiB at once (review13 R14)', async () => {
    const { server } = await serverOf(ADAPTERS[0]![1]);
    const response = await server.handle(new Request('http://sync.test/sync/live', { headers: { 'x-user': 'anna' } }));
    expect([response.headers.get('x-accel-buffering'), response.headers.get('cache-control'), response.headers.get('connection')]).toEqual(['no', 'no-store, no-transform', null]);
    const { value } = await response.body!.getReader().read();
    expect(value!.byteLength).toBeGreaterThanOrEqual(2048);
    expect(new TextDecoder().decode(value)).toMatch(/^: connected *\n\n$/);
    await server.close();
  });

  for (const [adapter, makeStorage] of ADAPTERS) {
    it(`${adapter}: an SSE stream pokes after a change (coalesced, with the head); close ends it`, async () => {
      const { server, crm } = await serverOf(makeStorage);
      const response = await server.handle(new Request('http://sync.test/sync/live', { headers: { 'x-user': 'anna' } }));
      expect([response.status, response.headers.get('content-type')]).toEqual([200, 'text/event-stream']);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      const readUntil = async (needle: string) => {
        let text = '';
        while (!text.includes(needle)) {
          const { value, done } = await reader.read();
          if (done) return text;
          text += decoder.decode(value);
        }
        return text;
      };
      await readUntil(': connected');
      await crm.contacts.create({ name: 'Ada' });
      await crm.contacts.create({ name: 'Ben' });
      const poke = await readUntil('\n\n');
      expect(poke).toMatch(/^event: poke\ndata: \{"head":\d+\}\n\n$/);
      await server.close();
      expect(await reader.read().then((r) => r.done)).toBe(true);
    });

    it(`${adapter}: a long poll answers at once when the head passed, waits for a change, or times out unchanged`, async () => {
      const { server, crm } = await serverOf(makeStorage);
      const poll = async (after: number) => (await server.handle(new Request(`http://sync.test/sync/poll?after=${after}`, { headers: { 'x-user': 'anna' } }))).json() as Promise<{ changed: boolean; head: number }>;
      const head = (await poll(0)).head;
      expect(await poll(0)).toEqual({ changed: head > 0, head });
      const waiting = poll(head);
      setTimeout(() => void crm.contacts.create({ name: 'Ada' }), 20);
      const changed = await waiting;
      expect(changed.changed && changed.head > head).toBe(true);
      expect(await poll(changed.head)).toEqual({ changed: false, head: changed.head });
      const bad = await server.handle(new Request('http://sync.test/sync/poll?after=-1', { headers: { 'x-user': 'anna' } }));
      expect(bad.status).toBe(400);
      const anonymous = await server.handle(new Request('http://sync.test/sync/live'));
      expect(anonymous.status).toBe(401);
    });
  }
});
