import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the test server received. */
export interface Received {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly at: number;
}

/** How the server answers one request: a status after an optional delay. */
export type Respond = (request: Received, index: number) => { status: number; delayMs?: number; body?: string };

/** A real HTTP server on loopback that records what it receives and answers as told. */
export interface WebhookServer {
  readonly url: string;
  readonly received: Received[];
  respond: Respond;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startWebhookServer(respond: Respond = () => ({ status: 204 })): Promise<WebhookServer> {
  const received: Received[] = [];
  const state = { respond };
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[key] = value;
    const entry: Received = { path: request.url ?? '/', headers, body, at: Date.now() };
    received.push(entry);
    const answer = state.respond(entry, received.length - 1);
    const send = () => {
      if (response.destroyed) return;
      response.statusCode = answer.status;
      response.end(answer.body ?? '');
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    get respond() {
      return state.respond;
    },
    set respond(next: Respond) {
      state.respond = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
