import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';

/**
 * The delivery log keeps the first 1000 characters of a response: the body is read from its stream up
 * to that and the rest is cancelled, so memory stays bounded whatever an endpoint sends back.
 */

const hang = <T>() => new Promise<T>(() => undefined);
const MB = 1024 * 1024;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function deliverOnce(fetch: WebhookFetch, timeoutMs = 5000) {
  const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 't', logger: silentLogger, features: [events(), webhooks({ fetch, timeoutMs, leaseMs: 10_000 })] });
  const endpoint = await crm.webhooks.create({ url: 'http://127.0.0.1/hooks' });
  await crm.contacts.create({ name: 'A' });
  await crm.webhooks.drain();
  const log = await crm.webhooks.deliveries(endpoint.id);
  await crm.close();
  return log.items;
}

describe('webhook response bodies', () => {
  it('a large body from a loopback server: read up to the kept characters, the rest cancelled', async () => {
    const total = 64 * MB;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    let closedEarly = false;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(total) });
        response.on('close', () => (closedEarly = written < total));
        const pump = () => {
          while (written < total && !response.destroyed) {
            written += chunk.length;
            if (!response.write(chunk)) return void response.once('drain', pump);
          }
          if (written >= total) response.end();
        };
        pump();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    let read = 0;
    let cancelled = false;
    // The real fetch to the loopback server; the body passes a counter on its way (what crmkit pulls from it).
    const fetch: WebhookFetch = async (_url, init) => {
      const response = await globalThis.fetch(url, init);
      const body = response.body!.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(bytes, controller) {
            read += bytes.length;
            controller.enqueue(bytes);
          },
        }),
      );
      const counted = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        async cancel(reason) {
          cancelled = true;
          await reader.cancel(reason);
        },
      });
      const reader = body.getReader();
      return { status: response.status, text: () => new Response(counted).text(), body: counted };
    };
    const log = await deliverOnce(fetch);
    expect(log.map((a) => [a.status, a.httpStatus, a.response?.length])).toEqual([['succeeded', 200, 1000]]);
    expect(log[0]!.response).toBe('x'.repeat(1000));
    expect(cancelled).toBe(true);
    expect(read).toBeLessThan(4 * MB); // a chunk or a few, not the 64 MB
    for (let i = 0; i < 100 && !closedEarly && written < total; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closedEarly).toBe(true);
  });

  it('a 2xx whose body stream sends a little and then stalls: delivered once, with what arrived', async () => {
    let calls = 0;
    const log = await deliverOnce(async () => {
      calls++;
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => controller.enqueue(new TextEncoder().encode('accepted')),
        pull: () => hang(), // never more, never the end
      });
      return { status: 202, text: () => hang<string>(), body };
    }, 300);
    expect(calls).toBe(1);
    expect(log.map((a) => [a.status, a.httpStatus, a.response])).toEqual([['succeeded', 202, 'accepted']]);
  });

  it('a multi-byte body cut at the kept length stays whole characters', async () => {
    const text = 'é'.repeat(3000);
    const bytes = new TextEncoder().encode(text);
    const log = await deliverOnce(async () => {
      // Split inside a character: the decoder carries the partial bytes to the next chunk.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.slice(0, 1001));
          controller.enqueue(bytes.slice(1001));
          controller.close();
        },
      });
      return { status: 200, text: async () => text, body };
    });
    expect(log[0]!.response).toBe('é'.repeat(1000));
  });
});
