/**
 * A sync server in its own process for test/crash.test.ts (design sync.md §13 test 3): a crm on the SQLite
 * file `CRASH_DB` behind Node's http on 127.0.0.1, every transaction slowed by `CRASH_DELAY_MS` (half before
 * it opens, half after its work and before its commit, so a kill lands between transactions and inside
 * them). After each committed transaction it tells the parent (`{ committed: mode }`), which SIGKILLs it at a
 * chosen one. Messages: `{ seq, op: 'stats' }` → events by type, activities, the device's `syncClient`
 * row; `{ seq, op: 'touch', n }` → renames the first n deals (server changes while a device pulls).
 * On a new file it seeds a pipeline and `CRASH_SEED_DEALS` deals.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createCrm, silentLogger, type StorageAdapter } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';

const filename = process.env.CRASH_DB!;
const delayMs = Number(process.env.CRASH_DELAY_MS ?? 0);
const seedDeals = Number(process.env.CRASH_SEED_DEALS ?? 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const send = (message: object) => process.send?.(message);

let slow = false;
const inner = createSqliteStorage({ filename });
/** The SQLite adapter with each transaction slowed once serving starts, and its commits reported. */
const storage = new Proxy(inner, {
  get(target, key) {
    if (key === 'transaction') {
      return async (mode: 'r' | 'rw', fn: Parameters<StorageAdapter['transaction']>[1]) => {
        if (!slow) return target.transaction(mode, fn);
        await sleep(delayMs / 2);
        const result = await target.transaction(mode, async (tx) => {
          const value = await fn(tx);
          await sleep(delayMs / 2);
          return value;
        });
        send({ committed: mode });
        return result;
      };
    }
    const value = Reflect.get(target, key) as unknown;
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
  },
}) as StorageAdapter;

const crm = await createCrm({
  storage, tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger,
  features: [tasks(), activities(), syncChanges()] as const,
});
if ((await crm.pipelines.list()).items.length === 0) {
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  for (let i = 0; i < seedDeals; i++) await crm.deals.create({ title: `Deal ${i}`, pipelineId: pipeline.id, value: { amount: 1000 + i, currency: 'EUR' } });
}

const server = createSyncServer(crm, { principal: (request) => (request.headers.get('x-user') ? { userId: request.headers.get('x-user')! } : undefined) });
const http = createServer(getRequestListener((request) => server.handle(request)));
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));

process.on('message', (message: { seq: number; op: 'stats' | 'touch'; n?: number }) => {
  void (async () => {
    if (message.op === 'touch') {
      const { items } = await crm.deals.list({ limit: message.n ?? 1 });
      for (const deal of items) await crm.deals.update(deal.id, { title: `${deal.title} (renamed)` });
      send({ seq: message.seq, result: items.length });
      return;
    }
    const result = await inner.transaction('r', async (tx) => {
      const events: Record<string, number> = {};
      for (const row of (await tx.query('event', 'acme', {})).rows) events[row.type as string] = (events[row.type as string] ?? 0) + 1;
      const activityIds = (await tx.query('activity', 'acme', {})).rows.map((row) => row.id);
      const clients = (await tx.query('syncClient', 'acme', {})).rows;
      return { events, activityIds, clients };
    });
    send({ seq: message.seq, result });
  })().catch((error: unknown) => send({ seq: message.seq, error: String(error) }));
});

slow = true;
send({ ready: (http.address() as AddressInfo).port });
