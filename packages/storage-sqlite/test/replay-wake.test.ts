import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createCrm, silentLogger, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import { createPostgresTestBed, type PostgresTestBed } from './support/postgres-subjects.js';
import { tempDir } from './support/temp-dir.js';

/**
 * A replay made by another process (here: another crm on its own adapter, one SQLite file or one
 * PostgreSQL database) reaches this process's started runners through the external-change path
 * (SQLite's journal polling, PostgreSQL's LISTEN/NOTIFY): a consumer and the webhook runner asleep for
 * `pollMs` (10 min) and `scheduler.start()` asleep for `maxSleepMs` (10 min) deliver it within seconds.
 */

const LONG = 600_000;
const NOTICES = 'crmkit.scheduler.notices:task.due';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
let bed: PostgresTestBed | undefined;
afterAll(() => bed?.end());

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  for (const started = Date.now(); ; await sleep(25)) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
  }
}

const engines = [
  {
    name: 'sqlite (two adapters on one file)',
    storage(): () => StorageAdapter {
      const tmp = tempDir('crmkit-replay-wake-');
      cleanups.push(tmp.cleanup);
      const file = tmp.file('shared.db');
      return () => createSqliteStorage({ filename: file, changePollMs: 25 });
    },
  },
  {
    name: 'postgres (two pools, LISTEN/NOTIFY)',
    storage(): () => StorageAdapter {
      const url = inject('postgresUrl');
      bed ??= createPostgresTestBed(url);
      const schema = bed.schemaName('replay');
      cleanups.push(() => bed!.dropSchema(schema));
      return () => createPostgresStorage({ connectionString: url, schema, maxConnections: 3 });
    },
  },
];

describe.each(engines)('a replay from another process wakes started runners: $name', { timeout: 120_000 }, (engine) => {
  it('consumer, webhook runner and scheduler.start() deliver the replayed events within seconds, not after their long sleep', async () => {
    const storage = engine.storage();
    let failing = true;
    const sent: string[] = [];
    const fetch: WebhookFetch = async (_url, init) => {
      if (!failing) sent.push(init.headers['webhook-id']!);
      return { status: failing ? 503 : 204, text: async () => '' };
    };
    const features = () => [tasks(), events(), scheduler({ maxSleepMs: LONG }), webhooks({ fetch, maxAttempts: 1, pollMs: LONG })] as const;
    const a = await createCrm({ storage: storage(), tenantId: 't', logger: silentLogger, features: features() });
    cleanups.push(() => a.close());
    const b = await createCrm({ storage: storage(), tenantId: 't', logger: silentLogger, features: features() });
    cleanups.push(() => b.close());

    // Process A: a consumer, the webhook runner and the scheduler, all started; every delivery fails.
    const consumed: string[] = [];
    await a.events.consume('sync', (event) => {
      if (failing) throw new Error('down');
      consumed.push(event.id);
    }, { types: ['contact.created'], maxAttempts: 1, pollMs: LONG });
    const noticed: string[] = [];
    a.on('task.due', (event) => {
      if (failing) throw new Error('smtp down');
      noticed.push(event.id);
    });
    const endpoint = await a.webhooks.create({ url: 'https://example.com/h', types: ['contact.created'] });
    a.webhooks.start();
    a.scheduler.start();
    await a.contacts.create({ name: 'Ada' });
    await a.tasks.create({ subject: 'Call', dueAt: new Date(Date.now() + 200).toISOString() });
    // Parked: the consumer's and the webhook's at once (1 attempt), the notice after 3 attempts (about 3 s of backoff).
    const parked = async (name: string) => {
      const items = (await b.events.parked(name)).items;
      return items.length ? items.map((p) => p.event.id) : undefined;
    };
    const consumerParked = await until('the consumer to park', () => parked('sync'), 30_000);
    const webhookParked = await until('the webhook delivery to park', () => parked(`webhook:${endpoint.id}`), 30_000);
    const noticeParked = await until('the notice to park', () => parked(NOTICES), 90_000);
    failing = false;
    await sleep(300); // A's runners are asleep now (pollMs and maxSleepMs: 10 min)

    // Process B replays each; A delivers within seconds.
    const took: Record<string, number> = {};
    const replayed = Date.now();
    await b.events.replay('sync', consumerParked);
    await b.webhooks.replay(endpoint.id, webhookParked[0]!);
    await b.events.replay(NOTICES, noticeParked);
    await until('the consumer', () => (consumed.length ? (took.consumer = Date.now() - replayed) : undefined), 15_000);
    await until('the webhook', () => (sent.length ? (took.webhook = Date.now() - replayed) : undefined), 15_000);
    await until('the notice', () => (noticed.length ? (took.notice = Date.now() - replayed) : undefined), 15_000);
    console.log(`[replay wake ${engine.name}] delivered after ${JSON.stringify(took)} ms (runners asleep for up to ${LONG} ms)`);
    expect(consumed).toEqual(consumerParked);
    expect(sent).toEqual(webhookParked);
    expect(noticed).toEqual(noticeParked);
    await a.scheduler.stop();
  });
});
