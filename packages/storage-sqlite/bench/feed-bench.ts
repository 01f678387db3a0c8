// The change feed's consumers on SQLite and PostgreSQL (issue 12): throughput of a durable consumer
// against a hand-written loop doing the least the same job needs (read a page after the checkpoint,
// store the checkpoint), and end-to-end lag from a commit in one adapter (another process's
// connection) to the handler of a consumer on another.
//
//   pnpm --filter @crmkit/storage-sqlite bench:feed
//   … -- --events 20000 --json feed.json
//   CRMKIT_BENCH_POSTGRES_URL=postgresql://… pnpm … bench:feed   # an existing server (default: a throwaway one)
//
// Budgets (printed beside the figures; the process exits 1 when one is missed, so `pnpm bench` fails):
// - throughput of one worker: ≥ 5 000 events/s on SQLite, ≥ 2 000 events/s on PostgreSQL, and within 4×
//   of the raw loop (which neither claims, leases nor partitions);
// - end-to-end lag p95: ≤ changePollMs + 100 ms on SQLite (100 ms poll by default), ≤ 100 ms on PostgreSQL.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createCrm, silentLogger, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { imports } from '@crmkit/core/imports';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createPostgresStorage, createSqliteStorage } from '../src/index.js';
import { buildLayout } from '../src/table-layout.js';
import { startPostgresServer } from '@crmkit/test-support/postgres';
import { log, percentile, round } from './measure.js';

const TENANT = 'bench';
const layout = buildLayout(CRM_STORAGE_SCHEMA);
const eventTable = layout.entities.get('event')!.table.name;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Engine {
  readonly name: 'sqlite' | 'postgres';
  storage(): StorageAdapter;
  /** The raw loop: read pages of events after a checkpoint in position order, store the checkpoint per page. */
  raw(total: number): Promise<number>;
  readonly budget: { readonly eventsPerSecond: number; readonly lagP95Ms: number };
  close(): Promise<void>;
}

/** Fills the feed with `n` events through crmkit (imports.deals: one deal.created event per deal). */
async function fill(storage: StorageAdapter, n: number): Promise<void> {
  const crm = await createCrm({ storage, tenantId: TENANT, logger: silentLogger, features: [imports()] });
  await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
  for (let done = 0; done < n; ) {
    const batch = Math.min(1000, n - done);
    await crm.imports.deals(Array.from({ length: batch }, (_, i) => ({ title: `Deal ${done + i}`, currency: 'EUR' })));
    done += batch;
  }
  await crm.close();
}

/** Drains the feed with a no-op handler through one consumer: events per second. */
async function throughput(storage: StorageAdapter, total: number, partitions: number, workers: number): Promise<number> {
  const crms = [];
  for (let w = 0; w < workers; w++) crms.push(await createCrm({ storage: w === 0 ? storage : storage, tenantId: TENANT, logger: silentLogger, closeStorage: false, features: [events()] }));
  let handled = 0;
  const name = `bench-${partitions}-${workers}-${Date.now()}`;
  const consumers = [];
  for (const crm of crms) consumers.push(await crm.events.consume(name, () => void handled++, { start: false, partitions, batchSize: 500 }));
  const started = performance.now();
  await Promise.all(consumers.map((c) => c.drain()));
  while (handled < total) await consumers[0]!.drain();
  const ms = performance.now() - started;
  for (const crm of crms) await crm.close();
  return (handled / ms) * 1000;
}

/** Commits events through one adapter while a consumer on another adapter handles them: lag per event (ms). */
async function lag(writerStorage: StorageAdapter, consumerStorage: StorageAdapter, count: number): Promise<number[]> {
  const writer = await createCrm({ storage: writerStorage, tenantId: TENANT, logger: silentLogger });
  const reader = await createCrm({ storage: consumerStorage, tenantId: TENANT, logger: silentLogger, features: [events()] });
  const lags: number[] = [];
  const sent = new Map<string, number>();
  const consumer = await reader.events.consume(
    `lag-${Date.now()}`,
    (event) => {
      const at = sent.get(event.subjectId);
      if (at !== undefined) lags.push(performance.now() - at);
    },
    { from: 'now', partitions: 1, pollMs: 5000, types: ['contact.created'] },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const contact = await writer.contacts.create({ name: `Lag ${i}` });
    sent.set(contact.id, started);
    await new Promise((resolve) => setTimeout(resolve, 20 + (i % 5) * 10));
  }
  const deadline = Date.now() + 15_000;
  while (lags.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await consumer.stop();
  await writer.close();
  await reader.close();
  return lags;
}

async function sqliteEngine(dir: string): Promise<Engine> {
  const file = join(dir, 'feed.db');
  return {
    name: 'sqlite',
    storage: () => createSqliteStorage({ filename: file }),
    async raw(total) {
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE IF NOT EXISTS raw_checkpoint (name TEXT PRIMARY KEY, position INTEGER)');
      const page = db.prepare(`SELECT doc, position FROM "${eventTable}" WHERE tenant_id = ? AND position > ? ORDER BY position LIMIT 500`).raw(true);
      const save = db.prepare('INSERT INTO raw_checkpoint (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position');
      let position = 0;
      let handled = 0;
      const started = performance.now();
      for (;;) {
        const rows = page.all(TENANT, position) as [string, number][];
        if (rows.length === 0) break;
        for (const [doc] of rows) if (JSON.parse(doc)) handled++;
        position = rows[rows.length - 1]![1];
        save.run('raw', position);
      }
      const ms = performance.now() - started;
      db.close();
      if (handled < total) throw new Error(`raw loop saw ${handled} of ${total}`);
      return (handled / ms) * 1000;
    },
    budget: { eventsPerSecond: 5000, lagP95Ms: 200 },
    close: async () => undefined,
  };
}

async function postgresEngine(): Promise<Engine> {
  const server = process.env.CRMKIT_BENCH_POSTGRES_URL ? undefined : await startPostgresServer();
  const url = process.env.CRMKIT_BENCH_POSTGRES_URL ?? server!.url;
  const schema = `feedbench_${process.pid}`;
  return {
    name: 'postgres',
    storage: () => createPostgresStorage({ connectionString: url, schema, maxConnections: 4 }),
    async raw(total) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".raw_checkpoint (name text PRIMARY KEY, position bigint)`);
      let position = 0;
      let handled = 0;
      const started = performance.now();
      for (;;) {
        const { rows } = await client.query({ name: 'raw_page', text: `SELECT doc, position FROM "${schema}"."${eventTable}" WHERE tenant_id = $1 AND position > $2 ORDER BY position LIMIT 500`, values: [TENANT, position], rowMode: 'array' });
        if (rows.length === 0) break;
        for (const [doc] of rows as [unknown, number][]) if (doc) handled++;
        position = Number((rows[rows.length - 1] as [unknown, number])[1]);
        await client.query({ name: 'raw_save', text: `INSERT INTO "${schema}".raw_checkpoint (name, position) VALUES ('raw', $1) ON CONFLICT (name) DO UPDATE SET position = excluded.position`, values: [position] });
      }
      const ms = performance.now() - started;
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      if (handled < total) throw new Error(`raw loop saw ${handled} of ${total}`);
      return (handled / ms) * 1000;
    },
    budget: { eventsPerSecond: 2000, lagP95Ms: 100 },
    close: async () => server?.stop(),
  };
}

async function main(): Promise<void> {
  const total = Number(arg('events') ?? 20_000);
  const dir = mkdtempSync(join(tmpdir(), 'crmkit-feed-bench-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const make of [() => sqliteEngine(dir), () => postgresEngine()]) {
      const engine = await make();
      try {
        log(`${engine.name}: filling the feed with ${total} events`);
        await fill(engine.storage(), total);
        const raw = await engine.raw(total);
        const one = await throughput(engine.storage(), total, 8, 1);
        const four = await throughput(engine.storage(), total, 8, 4);
        const lags = await lag(engine.storage(), engine.storage(), 200);
        const entry = {
          engine: engine.name,
          events: total,
          raw_events_per_s: Math.round(raw),
          consumer_events_per_s: Math.round(one),
          consumer_4_workers_events_per_s: Math.round(four),
          ratio_raw_to_consumer: round(raw / one, 2),
          lag_p50_ms: round(percentile(lags, 50), 1),
          lag_p95_ms: round(percentile(lags, 95), 1),
          lag_max_ms: round(Math.max(...lags), 1),
          lag_samples: lags.length,
          budget: `≥ ${engine.budget.eventsPerSecond} events/s and ≤ 4× raw; lag p95 ≤ ${engine.budget.lagP95Ms} ms`,
          within_budget: one >= engine.budget.eventsPerSecond && raw / one <= 4 && percentile(lags, 95) <= engine.budget.lagP95Ms,
        };
        results.push(entry);
        log(JSON.stringify(entry));
      } finally {
        await engine.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\nchange feed consumers (events/s; lag from commit in one adapter to the handler on another)');
  console.table(results.map((r) => ({ ...r, budget: undefined })));
  for (const r of results) console.log(`${r.engine}: budget ${r.budget as string} — ${r.within_budget ? 'met' : 'NOT met'}`);
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify(results, null, 2));
  // Exit 1 when a budget is missed, like the other benchmarks (`pnpm bench` then fails).
  if (results.some((r) => !r.within_budget)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
