/**
 * The office server of field mode: an ordinary crm on SQLite with the change feed (`syncChanges()`), its
 * sync routes under `/sync` and the built board page, both behind Node's http on one loopback origin
 * (the page's `endpoint` is `/sync`, no CORS). Seeds the demo pipeline and deals on a new database.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { createCrm, type Logger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';
import { DEMO } from '../src/demo-settings.js';
import { seedOnFirstVisit } from '../src/seed.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Where the field server keeps its data and what it serves. */
export interface FieldServerOptions {
  /** The built app (`vite build`'s outDir): `field.html` is served at `/`. */
  readonly dist: string;
  /** The SQLite file (default `:memory:`: the data lives as long as the process). */
  readonly filename?: string;
  /** The port on 127.0.0.1 (default 0: a free one). */
  readonly port?: number;
  readonly logger?: Logger;
}

/**
 * Starts the field server.
 *
 * @returns Its URL (`http://127.0.0.1:<port>/`), the server crm (to look at what arrived) and `close()`.
 */
export async function startFieldServer(options: FieldServerOptions) {
  const crm = await createCrm({
    storage: createSqliteStorage({ filename: options.filename ?? ':memory:' }),
    tenantId: DEMO.tenantId,
    actor: { userId: 'office' },
    features: [tasks(), activities(), syncChanges()],
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await seedOnFirstVisit(crm);
  // Authentication is the host's: this demo signs every device in as the demo's sales manager.
  const sync = createSyncServer(crm, { principal: () => ({ userId: DEMO.owner }) });

  const root = normalize(options.dist);
  const listener = getRequestListener(async (request) => {
    const path = normalize(decodeURIComponent(new URL(request.url).pathname));
    if (path === '/sync' || path.startsWith('/sync/')) return sync.handle(request);
    let file = join(root, path);
    if (!file.startsWith(root + sep)) return new Response('forbidden', { status: 403 });
    // The page at `/` and at any unknown path (a single-page app).
    if (!(await stat(file).catch(() => undefined))?.isFile()) file = join(root, 'field.html');
    return new Response(await readFile(file), { headers: { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' } });
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => void listener(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    crm,
    /** Ends the live streams, stops listening, closes the crm. */
    async close() {
      await sync.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await crm.close();
    },
  };
}
