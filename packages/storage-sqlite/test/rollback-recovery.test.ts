import type RealDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCrm, isCrmError, silentLogger, type ChangeBatch, type Crm } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { createFaultyDatabase, InjectedFailure, type FaultyDatabase } from './support/faulty-database.js';
import { tempDir } from './support/temp-dir.js';

// Databases the adapter opens itself (`{ filename }`) are faulty too, so a failed ROLLBACK can be staged there.
const opened = vi.hoisted(() => ({ all: [] as FaultyDatabase[] }));
vi.mock('better-sqlite3', async (importOriginal) => {
  const real = (await importOriginal<{ default: typeof RealDatabase }>()).default;
  function FaultyDriver(this: unknown, filename: string, options?: RealDatabase.Options) {
    const faulty = createFaultyDatabase(filename, (f) => new real(f, options));
    opened.all.push(faulty);
    return faulty.database;
  }
  return { default: FaultyDriver };
});

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
  opened.all = [];
});

function recordingLogger() {
  const lines: { level: 'warn' | 'error'; message: string }[] = [];
  return { lines, logger: { warn: (message: string) => void lines.push({ level: 'warn', message }), error: (message: string) => void lines.push({ level: 'error', message }) } };
}

async function crmOn(storage: ReturnType<typeof createSqliteStorage>): Promise<Crm> {
  const crm = await createCrm({ storage, tenantId: 'acme', logger: silentLogger, actor: { userId: 'u1' } });
  cleanups.push(() => crm.close());
  await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
  return crm;
}

/** The real driver (this file's own `better-sqlite3` import is the faulty one). */
const real = async () => ((await vi.importActual('better-sqlite3')) as { default: typeof RealDatabase }).default;

const failing = async (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

describe('sqlite: a failed ROLLBACK never leaves the adapter inside a transaction', () => {
  it('owned database file: ROLLBACK fails twice → the connection is reset, logged, and later calls work', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const { lines, logger } = recordingLogger();
    const crm = await crmOn(createSqliteStorage({ filename: tmp.file('crm.db'), logger }));
    const kept = await crm.deals.create({ title: 'Kept' });
    const first = opened.all[0]!;
    first.arm(3); // a statement inside the next operation fails…
    first.failRollbacks(2, { exec: true }); // …and so do both ROLLBACK attempts
    const error = await failing(crm.deals.create({ title: 'Doomed' }));
    expect(isCrmError(error, 'STORAGE') && error.cause instanceof InjectedFailure).toBe(true);
    expect(opened.all).toHaveLength(2); // a new connection replaced the stuck one
    expect(lines).toEqual([{ level: 'error', message: expect.stringContaining('the connection was reset') }]);
    const after = await crm.deals.create({ title: 'After' });
    expect((await crm.deals.list()).items.map((d) => d.title).sort()).toEqual(['After', 'Kept']);
    expect((await crm.deals.get(kept.id)).title).toBe('Kept');
    expect(after.version).toBe(1);
  });

  it('host-owned database: a second ROLLBACK through a fresh statement ends the transaction, with a warning', async () => {
    const Database = await real();
    const faulty = createFaultyDatabase(':memory:', (f) => new Database(f));
    cleanups.push(() => faulty.close());
    const { lines, logger } = recordingLogger();
    const crm = await crmOn(createSqliteStorage({ database: faulty.database, logger }));
    const before = faulty.dump();
    faulty.arm(3);
    faulty.failRollbacks(1);
    expect(isCrmError(await failing(crm.deals.create({ title: 'Doomed' })), 'STORAGE')).toBe(true);
    faulty.disarm();
    expect(faulty.database.inTransaction).toBe(false);
    expect(faulty.dump()).toEqual(before);
    expect(lines).toEqual([{ level: 'warn', message: expect.stringContaining('a second ROLLBACK ended the transaction') }]);
    await crm.deals.create({ title: 'Fine' });
    expect((await crm.deals.list()).items.map((d) => d.title)).toEqual(['Fine']);
  });

  it('host-owned database that cannot roll back yet: later calls fail retryably (never with "transaction within a transaction") and recover once it can', async () => {
    const Database = await real();
    const faulty = createFaultyDatabase(':memory:', (f) => new Database(f));
    cleanups.push(() => faulty.close());
    const { lines, logger } = recordingLogger();
    const crm = await crmOn(createSqliteStorage({ database: faulty.database, logger }));
    const before = faulty.dump();
    faulty.arm(3);
    faulty.failRollbacks(1000, { exec: true });
    expect(isCrmError(await failing(crm.deals.create({ title: 'Doomed' })), 'STORAGE')).toBe(true);
    faulty.disarm();
    expect(lines.at(-1)).toEqual({ level: 'error', message: expect.stringContaining('next transaction retries') });
    const stuck = await failing(crm.deals.list());
    expect(isCrmError(stuck, 'STORAGE') && stuck.details.retryable).toBe(true);
    faulty.failRollbacks(0);
    expect((await crm.deals.list()).items).toEqual([]);
    expect(faulty.dump()).toEqual(before);
    await crm.deals.create({ title: 'Fine' });
    expect((await crm.deals.list()).items.map((d) => d.title)).toEqual(['Fine']);
  });
});

describe('sqlite: a connection reset forgets what the old connection knew about watchers (review17 #5)', () => {
  it('a writer alone (cached: nobody watches), a watcher registers, the connection is reset: the next commit is journaled and reported', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const file = tmp.file('reset.db');
    const { logger } = recordingLogger();
    const writer = createSqliteStorage({ filename: file, changePollMs: 0, logger });
    await writer.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => writer.close());
    const row = (id: string) => ({ id, tenantId: 't', version: 1, createdAt: '2026-01-01T00:00:00.000Z' });
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row('alone') }])); // caches "nobody watches"
    const reader = createSqliteStorage({ filename: file, changePollMs: 25, logger: silentLogger });
    await reader.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => reader.close());
    const seen: ChangeBatch[] = [];
    reader.onChange((batch) => void (batch.source === 'external' && seen.push(batch)));
    const Database = await real();
    const raw = new Database(file);
    cleanups.push(() => void raw.close());
    while ((raw.prepare('SELECT COUNT(*) FROM crmkit_watchers').pluck().get() as number) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // Both ROLLBACKs of a failed transaction fail: the writer gets a new connection, whose data_version
    // starts where the old one's cached value was (the registration predates the new connection).
    opened.all[0]!.failRollbacks(2, { exec: true });
    const failed = await failing(writer.transaction('rw', () => Promise.reject(new Error('doomed'))));
    expect(failed).toBeInstanceOf(Error);
    expect(opened.all.length).toBeGreaterThanOrEqual(3);
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row('after') }]));
    const started = Date.now();
    while (!seen.some((b) => b.resync || b.changes.some((c) => c.id === 'after')) && Date.now() - started < 3000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.flatMap((b) => b.changes.map((c) => c.id))).toEqual(['after']);
  });
});
