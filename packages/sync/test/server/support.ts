import { createCrm, createMemoryStorage, silentLogger, type Principal, type StorageAdapter } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createSyncServer, syncChanges, type SyncServerOptions } from '@crmkit/sync/server';
import { createSeededRandom } from '@crmkit/core';
import { newClientId, newSeed } from '../../src/protocol/command-ids.js';
import type { Command, PullResponse, PushResponse } from '../../src/protocol/messages.js';

/** A pool on the run's PostgreSQL (test support starts it); one fresh schema per server, dropped at the end. `schema`: another connection to that one (a peer). */
export function postgres(): (schema?: string) => StorageAdapter & { schema?: string } {
  let pool: pg.Pool | undefined;
  const opened: [string, StorageAdapter][] = [];
  afterAll(async () => {
    if (!pool) return;
    for (const [schema, storage] of opened) {
      await storage.close().catch(() => undefined);
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
    await pool.end();
  });
  return (peerOf?: string) => {
    pool ??= new pg.Pool({ connectionString: inject('postgresUrl'), max: 10 });
    const schema = peerOf ?? `sync_${process.pid}_${randomBytes(4).toString('hex')}`;
    const storage = Object.assign(createPostgresStorage({ pool, schema }), { schema });
    opened.push([schema, storage]);
    return storage;
  };
}

/** The adapters the server tests run on. */
export const ADAPTERS: readonly (readonly [string, () => StorageAdapter])[] = [
  ['memory', () => createMemoryStorage()],
  ['sqlite', () => createSqliteStorage({ filename: ':memory:' })],
  ['postgres', (() => {
    const make = postgres();
    return () => make();
  })()],
];

/** A principal from the `x-user` header (`x-roles`: comma-separated roles): the host's auth in tests. */
export function headerPrincipal(request: Request): Principal | undefined {
  const userId = request.headers.get('x-user');
  if (!userId) return undefined;
  const roles = request.headers.get('x-roles');
  return roles ? { userId, roles: roles.split(',') } : { userId };
}

/** A server crm (tasks, activities, optionally access, syncChanges) and its sync server, with a fake clock. */
export async function serverOf(makeStorage: () => StorageAdapter, options: { access?: boolean; server?: Partial<SyncServerOptions>; storage?: StorageAdapter; backfillChunk?: number } = {}) {
  const clock = createFakeClock('2026-01-05T09:00:00.000Z');
  const storage = options.storage ?? makeStorage();
  const crm = await createCrm({
    storage, tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock, random: { seed: 7 },
    features: [tasks(), activities(), ...(options.access ? [access()] : []), syncChanges(options.backfillChunk ? { backfillChunk: options.backfillChunk } : {})] as const,
  });
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  const server = createSyncServer(crm, { principal: headerPrincipal, live: { coalesceMs: 5, pollWaitMs: 300, headPollMs: 20 }, ...options.server });
  return { crm, clock, storage, server, pipeline };
}

/** An HTTP answer: status and parsed JSON body. */
export interface Answer<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** Sends `body` to `POST /sync/<route>` as `user` (none: unauthenticated). */
export async function post<T = PushResponse & PullResponse & { code: string; details: { issues: { path: (string | number)[]; code: string }[] } & Record<string, unknown> }>(server: { handle(r: Request): Promise<Response> }, route: string, body: unknown, user: string | undefined = 'anna', headers: Record<string, string> = {}): Promise<Answer<T>> {
  const response = await server.handle(new Request(`http://sync.test/sync/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { 'x-user': user } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }));
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/** A device's identity and command counter. */
export function device(seed: number) {
  const random = createSeededRandom(seed);
  const clientId = newClientId(random);
  let seq = 0;
  return {
    clientId,
    /** The next command (its seq counted here), at device time `at`. */
    command(name: Command['name'], args: readonly unknown[], at = 1_767_600_000_000): Command {
      return { seq: ++seq, name, args, at, seed: newSeed(random) };
    },
    /** A client id of `entity` (`deal_…`) from this device's randomness. */
    id(prefix: string): string {
      return `${prefix}_${newSeed(random).slice(0, 10)}${newSeed(random)}`;
    },
    push(commands: readonly Command[], extra: object = {}) {
      return { protocol: 1, clientId, commands, ...extra };
    },
    pull(checkpoint: string | null, extra: object = {}) {
      return { protocol: 1, clientId, checkpoint, ...extra };
    },
  };
}

/** Pulls until `hasMore` is false; returns every page. */
export async function pullAll(server: { handle(r: Request): Promise<Response> }, dev: ReturnType<typeof device>, checkpoint: string | null, user = 'anna', limit?: number): Promise<PullResponse[]> {
  const pages: PullResponse[] = [];
  for (;;) {
    const { status, body } = await post<PullResponse>(server, 'pull', dev.pull(checkpoint, limit ? { limit } : {}), user);
    if (status !== 200) throw new Error(`pull failed: ${status} ${JSON.stringify(body)}`);
    pages.push(body);
    checkpoint = body.checkpoint;
    if (!body.hasMore) return pages;
  }
}
