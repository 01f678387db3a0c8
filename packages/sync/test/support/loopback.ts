import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';

/** What a test can do to the loopback server's answers. */
export interface LoopbackFaults {
  /** Milliseconds every answer waits before the sync server handles the request. */
  delayMs: number;
  /** Routes answered 404 (an old server, a proxy that refuses them). */
  refuse: Set<string>;
  /** Answer every request with a proxy's HTML error page (502). */
  proxyPage: boolean;
}

/**
 * A sync server's `handle(Request)` behind Node's http on 127.0.0.1, adapted with `@hono/node-server`'s
 * `getRequestListener` (design sync.md §3): stops and restarts on the same port, drops open streams.
 * `files` are answered at their paths (a test page and its bundle); `port`: 0 (default) picks a free one.
 */
export async function loopback(handler: { handle(request: Request): Promise<Response> }, options: { files?: Record<string, { type: string; body: string }>; port?: number } = {}) {
  const files = options.files ?? {};
  const faults: LoopbackFaults = { delayMs: 0, refuse: new Set(), proxyPage: false };
  const sockets = new Set<Socket>();
  const streams = new Set<Socket>();
  let requests = 0;
  const listener = getRequestListener(async (request, env: { incoming: { socket: Socket } }) => {
    requests++;
    const url = new URL(request.url);
    const file = files[url.pathname];
    if (file) return new Response(file.body, { headers: { 'content-type': file.type } });
    const route = url.pathname.split('/').pop()!;
    if (faults.proxyPage) return new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
    if (faults.delayMs) await new Promise((resolve) => setTimeout(resolve, faults.delayMs));
    if (faults.refuse.has(route)) return new Response('{"code":"NOT_FOUND","message":"no route","details":{}}', { status: 404, headers: { 'content-type': 'application/json' } });
    if (route === 'live') {
      const socket = env.incoming.socket;
      streams.add(socket);
      socket.once('close', () => streams.delete(socket));
    }
    return handler.handle(request);
  });
  let server: Server | undefined;
  let port = options.port ?? 0;
  const start = async () => {
    server = createServer((req, res) => void listener(req, res));
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  };
  await start();
  return {
    faults,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get requests() {
      return requests;
    },
    /** Open event streams. */
    get streams() {
      return streams.size;
    },
    /** Stops listening and cuts every connection (a crashed or restarting server). */
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    /** Listens again on the same port. */
    start,
    /** Cuts the open event streams mid-stream (the connection drops, the server keeps running). */
    dropStreams() {
      for (const socket of streams) socket.destroy();
    },
  };
}

/** A port nothing listens on (taken and released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
