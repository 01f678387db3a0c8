import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createCrm, silentLogger, type ChangeBatch, type StorageAdapter } from '@crmkit/core';
import { observers } from '@crmkit/core/observe';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import pg from 'pg';
import { forkChild, type Child } from './support/child-process.js';
import { createPostgresTestBed, type PostgresTestBed } from './support/postgres-subjects.js';
import { tempDir } from './support/temp-dir.js';

/**
 * External changes across real processes: a child process writes through crmkit; this process's
 * adapter reports those commits to `onChange` as `external` batches, and observers refresh.
 */

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
let bed: PostgresTestBed | undefined;
afterAll(() => bed?.end());

async function until(done: () => boolean, what: string, ms = 20_000): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const engines = [
  {
    name: 'sqlite',
    make() {
      const tmp = tempDir('crmkit-external-');
      cleanups.push(tmp.cleanup);
      const file = tmp.file('shared.db');
      return { open: { engine: 'sqlite', file }, storage: (): StorageAdapter => createSqliteStorage({ filename: file, changePollMs: 25 }) };
    },
  },
  {
    name: 'postgres',
    make() {
      const url = inject('postgresUrl');
      bed ??= createPostgresTestBed(url);
      const schema = bed.schemaName('ext');
      cleanups.push(() => bed!.dropSchema(schema));
      return { open: { engine: 'postgres', url, schema }, storage: (): StorageAdapter => createPostgresStorage({ connectionString: url, schema, maxConnections: 3 }) };
    },
  },
];

describe.each(engines)('external changes on $name, from another process', { timeout: 120_000 }, (engine) => {
  it('a child process’s commits reach onChange as external batches, in commit order, and observers refresh', async () => {
    const db = engine.make();
    const crm = await createCrm({ storage: db.storage(), tenantId: 'ext', logger: silentLogger, features: [observers()] });
    cleanups.push(() => crm.close());
    const child: Child = await forkChild('test/support/fleet-child.ts', { bundled: true });
    cleanups.push(() => child.kill('SIGKILL'));
    await child.request({ cmd: 'open', ...db.open, tenantId: 'ext', logDir: '/tmp', role: 'writer', leaseMs: 3000 });

    const batches: ChangeBatch[] = [];
    const adapter = db.storage();
    await adapter.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => adapter.close());
    adapter.onChange((b) => void (b.source === 'external' && batches.push(b)));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the watcher is listening

    const first = await child.request<{ id: string }>({ cmd: 'createContact', name: 'Ada' });
    const observer = crm.observe.contact(first.id);
    const names: (string | undefined)[] = [];
    const off = observer.subscribe(() => names.push(observer.getSnapshot().data?.name));
    await until(() => names.includes('Ada'), 'the observer to load');
    await child.request({ cmd: 'updateContact', id: first.id, name: 'Ada Lovelace' });
    await until(() => names.includes('Ada Lovelace'), 'the observer to see the other process’s update');
    off();

    const second = await child.request<{ id: string }>({ cmd: 'createContact', name: 'Grace' });
    await until(() => batches.flatMap((b) => b.changes).some((c) => c.id === second.id), 'the external batch');
    const contactChanges = batches.flatMap((b) => b.changes).filter((c) => c.entity === 'contact').map((c) => `${c.id}:${c.op}`);
    expect(contactChanges).toEqual([`${first.id}:put`, `${first.id}:put`, `${second.id}:put`]);
    // Each batch is one transaction of the child: the contact and its event together.
    for (const batch of batches) expect(new Set(batch.changes.map((c) => c.entity))).toEqual(new Set(['contact', 'event']));
    expect(batches.every((b) => b.changes.every((c) => c.tenantId === 'ext'))).toBe(true);
  });
});

describe('postgres: the listener reconnects and catches up', () => {
  it('after its connection is killed, it reconnects and reports a resync batch, then new commits again', async () => {
    const url = inject('postgresUrl');
    bed ??= createPostgresTestBed(url);
    const schema = bed.schemaName('relisten');
    cleanups.push(() => bed!.dropSchema(schema));
    const watcher = createPostgresStorage({ connectionString: url, schema, maxConnections: 3 });
    const writer = createPostgresStorage({ connectionString: url, schema, maxConnections: 2 });
    for (const a of [watcher, writer]) {
      await a.open(CRM_STORAGE_SCHEMA);
      cleanups.push(() => a.close());
    }
    const batches: ChangeBatch[] = [];
    watcher.onChange((b) => void (b.source === 'external' && batches.push(b)));
    const row = (id: string) => ({ id, tenantId: 't', version: 1, createdAt: '2026-01-01T00:00:00.000Z' });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    cleanups.push(() => admin.end());
    // Wait until the watcher's LISTEN connection exists, then kill it.
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN "crmkit_%' AND datname = current_database()`);
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(pid).toBeDefined();
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row('before') }]));
    await until(() => batches.some((b) => b.changes.some((c) => c.id === 'before')), 'a change before the kill');
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    // Committed while nobody listens: only the resync tells about it.
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row('during') }]));
    await until(() => batches.some((b) => b.resync === true), 'the resync after reconnecting');
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row('after') }]));
    await until(() => batches.some((b) => b.changes.some((c) => c.id === 'after')), 'a change after the reconnect');
    const resync = batches.find((b) => b.resync)!;
    expect(resync.changes).toEqual([]);
  });
});

describe('sqlite: the change journal', () => {
  it('a watcher that missed pruned journal entries gets a resync batch, then the changes it can still read', async () => {
    const tmp = tempDir('crmkit-journal-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('journal.db');
    const watcher = createSqliteStorage({ filename: file, changePollMs: 400 });
    const writer = createSqliteStorage({ filename: file, changePollMs: 0 });
    for (const a of [watcher, writer]) {
      await a.open(CRM_STORAGE_SCHEMA);
      cleanups.push(() => a.close());
    }
    expect(writer.capabilities.externalChanges).toBe(false);
    expect(watcher.capabilities.externalChanges).toBe(true);
    const batches: ChangeBatch[] = [];
    watcher.onChange((b) => void (b.source === 'external' && batches.push(b)));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the watcher took its starting point
    const row = (id: string) => ({ id, tenantId: 't', version: 1, createdAt: '2026-01-01T00:00:00.000Z' });
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row('pruned') }]));
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row('kept') }]));
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file);
    raw.prepare('DELETE FROM crmkit_changes WHERE seq = (SELECT MIN(seq) FROM crmkit_changes)').run();
    raw.close();
    await until(() => batches.some((b) => b.changes.some((c) => c.id === 'kept')), 'the kept change');
    expect(batches.map((b) => (b.resync ? 'resync' : b.changes.map((c) => c.id).join(',')))).toEqual(['resync', 'kept']);
  });
});

describe('sqlite: the change journal is pruned by age', () => {
  it('every 64th commit deletes the entries older than ten minutes (a prefix in seq order) and keeps the recent ones, without an index on at', async () => {
    const tmp = tempDir('crmkit-prune-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('prune.db');
    const writer = createSqliteStorage({ filename: file, changePollMs: 0 });
    await writer.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => writer.close());
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file);
    cleanups.push(() => void raw.close());
    // Another connection watches (else nothing is journaled); entries of another process from an hour ago,
    // then one from now (its clock may lag: the walk stops at the first recent entry).
    raw.prepare("INSERT INTO crmkit_watchers (origin, at) VALUES ('other', ?)").run(Date.now());
    const old = Date.now() - 3_600_000;
    for (let i = 0; i < 3; i++) raw.prepare("INSERT INTO crmkit_changes (origin, at, changes) VALUES ('other', ?, '[]')").run(old + i);
    raw.prepare("INSERT INTO crmkit_changes (origin, at, changes) VALUES ('other', ?, '[]')").run(Date.now());
    const row = (id: string) => ({ id, tenantId: 't', version: 1, createdAt: '2026-01-01T00:00:00.000Z' });
    for (let i = 0; i < 64; i++) await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row(`d${i}`) }]));
    const left = raw.prepare('SELECT origin, at FROM crmkit_changes ORDER BY seq').all() as { origin: string; at: number }[];
    expect(left.filter((e) => e.at < old + 10)).toEqual([]);
    expect(left.length).toBe(65);
    expect(left[0]!.origin).toBe('other');
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'crmkit_changes__at'").all()).toEqual([]);
  });
});

describe('sqlite: commits are journaled only while another connection watches', () => {
  const row = (id: string) => ({ id, tenantId: 't', version: 1, createdAt: '2026-01-01T00:00:00.000Z' });
  const insert = (storage: StorageAdapter, id: string) => storage.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row(id) }]));

  it('a lone adapter, listening itself, journals nothing; another watcher registers, gets the next commits, and unregisters on close', async () => {
    const tmp = tempDir('crmkit-watchers-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('watchers.db');
    const writer = createSqliteStorage({ filename: file, changePollMs: 25 });
    await writer.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => writer.close());
    const own: ChangeBatch[] = [];
    writer.onChange((batch) => own.push(batch));
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file);
    cleanups.push(() => void raw.close());
    const journaled = () => raw.prepare('SELECT COUNT(*) FROM crmkit_changes').pluck().get() as number;
    const watchers = () => raw.prepare('SELECT origin FROM crmkit_watchers').pluck().all() as string[];
    await until(() => watchers().length === 1, "the writer's own watcher to register");
    await insert(writer, 'a');
    expect(journaled()).toBe(0);
    expect(own.filter((b) => b.source === 'local')).toHaveLength(1);

    const reader = createSqliteStorage({ filename: file, changePollMs: 25 });
    await reader.open(CRM_STORAGE_SCHEMA);
    const seen: ChangeBatch[] = [];
    reader.onChange((batch) => seen.push(batch));
    await until(() => watchers().length === 2, 'the reader to register');
    await insert(writer, 'b');
    expect(journaled()).toBe(1);
    await until(() => seen.some((b) => b.source === 'external' && b.changes.some((c) => c.id === 'b')), 'the external batch');
    expect(seen.flatMap((b) => b.changes.map((c) => c.id))).not.toContain('a');
    expect(own.filter((b) => b.source === 'external')).toEqual([]);

    await reader.close();
    expect(watchers()).toHaveLength(1);
    await insert(writer, 'c');
    expect(journaled()).toBe(1);
  });

  it('a watcher stopped and started again at once stays registered (the old one does not unregister the new one)', async () => {
    const tmp = tempDir('crmkit-watchers-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('restart.db');
    const writer = createSqliteStorage({ filename: file, changePollMs: 0 });
    await writer.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => writer.close());
    const reader = createSqliteStorage({ filename: file, changePollMs: 25 });
    await reader.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => reader.close());
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file);
    cleanups.push(() => void raw.close());
    const watchers = () => raw.prepare('SELECT origin FROM crmkit_watchers').pluck().all() as string[];
    const stop = reader.onChange(() => undefined);
    await until(() => watchers().length === 1, 'the reader to register');
    stop();
    const seen: ChangeBatch[] = [];
    reader.onChange((batch) => seen.push(batch));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(watchers()).toHaveLength(1);
    await insert(writer, 'after');
    await until(() => seen.some((b) => b.changes.some((c) => c.id === 'after')), 'the commit after the restart');
  });

  it('a watcher whose registration lapsed (writers may have journaled nothing) registers again and emits resync', async () => {
    const tmp = tempDir('crmkit-watchers-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('lapse.db');
    const writer = createSqliteStorage({ filename: file, changePollMs: 0 });
    await writer.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => writer.close());
    const reader = createSqliteStorage({ filename: file, changePollMs: 25 });
    await reader.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => reader.close());
    const seen: ChangeBatch[] = [];
    reader.onChange((batch) => seen.push(batch));
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file);
    cleanups.push(() => void raw.close());
    const watchers = () => raw.prepare('SELECT origin FROM crmkit_watchers').pluck().all() as string[];
    await until(() => watchers().length === 1, 'the reader to register');
    // A writer expired it (its heartbeat looked older than ten minutes): commits are not journaled for it.
    raw.prepare('DELETE FROM crmkit_watchers').run();
    await insert(writer, 'missed');
    expect(raw.prepare('SELECT COUNT(*) FROM crmkit_changes').pluck().get()).toBe(0);
    // Its next heartbeat (a minute later) finds the registration gone.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
    cleanups.push(() => void vi.useRealTimers());
    await until(() => seen.some((b) => b.resync), 'the resync batch');
    expect(watchers()).toHaveLength(1);
    await insert(writer, 'next');
    await until(() => seen.some((b) => b.changes.some((c) => c.id === 'next')), 'the next commit');
  });
});

describe('sqlite: a subscription racing another connection’s write transaction (review17 #1)', () => {
  const row = (id: string, title = 'x', version = 1) => ({ id, tenantId: 't', version, title, createdAt: '2026-01-01T00:00:00.000Z' });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  async function two(name: string) {
    const tmp = tempDir('crmkit-subscribe-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file(name);
    const writer = createSqliteStorage({ filename: file, changePollMs: 0 });
    await writer.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => writer.close());
    const reader = createSqliteStorage({ filename: file, changePollMs: 25 });
    await reader.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => reader.close());
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: row('d', 'old') }]));
    return { writer, reader };
  }
  const title = async (storage: StorageAdapter) => ((await storage.getMany!('deal', 't', ['d']))[0] as unknown as { title: string }).title;
  const reported = (seen: ChangeBatch[]) => seen.some((b) => b.resync || b.changes.some((c) => c.id === 'd'));

  it('the writer’s transaction began before the subscription and commits after it (registration blocked meanwhile): a resync reaches onChange', async () => {
    const { writer, reader } = await two('during.db');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // A long write transaction (an import, a slow hook) holds the write lock: registering fails busy meanwhile.
    const pending = writer.transaction('rw', async (tx) => {
      await gate;
      await tx.write('deal', 't', [{ type: 'update', row: row('d', 'new', 2), expectedVersion: 1 }]);
    });
    await sleep(50);
    const seen: ChangeBatch[] = [];
    reader.onChange((b) => void (b.source === 'external' && seen.push(b)));
    await sleep(150); // the watcher's rounds fail busy
    expect(await title(reader)).toBe('old'); // subscribe, then read: the UI shows 'old'
    release();
    await pending; // journaled nothing: the writer saw no registration
    expect(await title(reader)).toBe('new');
    await until(() => reported(seen), 'the change or a resync');
  });

  it('the writer commits after the subscription but before the registration (this connection was busy): a resync reaches onChange', async () => {
    const { writer, reader } = await two('before-register.db');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // This adapter's own transaction delays the watcher's start (it runs between transactions).
    const busy = reader.transaction('r', () => gate);
    await sleep(20);
    const seen: ChangeBatch[] = [];
    reader.onChange((b) => void (b.source === 'external' && seen.push(b)));
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'update', row: row('d', 'new', 2), expectedVersion: 1 }]));
    release();
    await busy;
    await until(() => reported(seen), 'the change or a resync');
  });

  it('a commit before the subscription reports nothing; a quiet subscription starts without a resync; later commits arrive as changes', async () => {
    const { writer, reader } = await two('quiet.db');
    const seen: ChangeBatch[] = [];
    reader.onChange((b) => void (b.source === 'external' && seen.push(b)));
    await sleep(150);
    expect(seen).toEqual([]);
    await writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'update', row: row('d', 'new', 2), expectedVersion: 1 }]));
    await until(() => seen.length > 0, 'the change');
    expect(seen).toEqual([{ source: 'external', changes: [{ entity: 'deal', tenantId: 't', id: 'd', op: 'put' }] }]);
  });
});

describe('sqlite: a watcher on a read-only connection (review17 #2)', () => {
  it('cannot register, logs that once, and reports each commit of another connection as a resync', async () => {
    const tmp = tempDir('crmkit-readonly-');
    cleanups.push(tmp.cleanup);
    const file = tmp.file('ro.db');
    const writer = createSqliteStorage({ filename: file, changePollMs: 0 });
    await writer.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => writer.close());
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(file, { readonly: true });
    cleanups.push(() => void db.close());
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message), error: (message: string) => void warnings.push(message) };
    const reader = createSqliteStorage({ database: db, changePollMs: 25, logger });
    await reader.open(CRM_STORAGE_SCHEMA);
    cleanups.push(() => reader.close());
    const seen: ChangeBatch[] = [];
    reader.onChange((b) => void (b.source === 'external' && seen.push(b)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);
    const insert = (id: string) => writer.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: { id, tenantId: 't', version: 1, createdAt: '2026-01-01T00:00:00.000Z' } }]));
    await insert('a');
    await until(() => seen.length === 1, 'the first resync');
    await insert('b');
    await until(() => seen.length === 2, 'the second resync');
    expect(seen).toEqual([
      { source: 'external', changes: [], resync: true },
      { source: 'external', changes: [], resync: true },
    ]);
    expect(warnings).toEqual([expect.stringContaining('cannot register its change watcher')]);
  });
});

describe("postgres: externalChanges: 'poll' (engines without LISTEN/NOTIFY, such as CockroachDB)", () => {
  it('sends no pg_notify, and another adapter learns of commits by polling the feed watermark (resync batches), not of its own', async () => {
    const url = inject('postgresUrl');
    bed ??= createPostgresTestBed(url);
    const schema = bed.schemaName('poll');
    cleanups.push(() => bed!.dropSchema(schema));
    // Every statement either adapter sends, to prove that none is a NOTIFY or LISTEN.
    const texts: string[] = [];
    const spiedPool = () => {
      const pool = new pg.Pool({ connectionString: url, max: 3 });
      const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
      return Object.assign(pool, {
        connect: async () => {
          const client = await connect();
          const query = client.query.bind(client) as (config: { text: string }) => Promise<unknown>;
          return Object.assign(client, { query: (config: { text: string }) => (texts.push(config.text), query(config)) });
        },
      });
    };
    const pools = [spiedPool(), spiedPool()];
    cleanups.push(async () => {
      for (const pool of pools) await pool.end();
    });
    const storages = pools.map((pool) => createPostgresStorage({ pool, schema, externalChanges: 'poll', changePollMs: 25 }));
    expect(storages[0]!.capabilities.externalChanges).toBe(true);
    const crms = [];
    for (const storage of storages) {
      const crm = await createCrm({ storage, tenantId: 'poll', logger: silentLogger, features: [observers()] });
      cleanups.push(() => crm.close());
      crms.push(crm);
    }
    const [a, b] = crms as [(typeof crms)[0], (typeof crms)[0]];
    const seenByA: ChangeBatch[] = [];
    const seenByB: ChangeBatch[] = [];
    storages[0]!.onChange((batch) => void (batch.source === 'external' && seenByA.push(batch)));
    storages[1]!.onChange((batch) => void (batch.source === 'external' && seenByB.push(batch)));
    await new Promise((resolve) => setTimeout(resolve, 200)); // both pollers have a baseline

    const contact = await a.contacts.create({ name: 'Ada' });
    // B's observer follows A's commits through the resync.
    const observer = b.observe.contact(contact.id);
    const names: (string | undefined)[] = [];
    const off = observer.subscribe(() => names.push(observer.getSnapshot().data?.name));
    await until(() => names.includes('Ada'), 'the observer to load');
    await a.contacts.update(contact.id, { name: 'Ada Lovelace' });
    await until(() => names.includes('Ada Lovelace'), "the observer to see the other adapter's update");
    off();
    expect(seenByB.length).toBeGreaterThan(0);
    expect(seenByB.every((batch) => batch.resync === true && batch.changes.length === 0)).toBe(true);
    // A's own commits are not reported back to A.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seenByA).toEqual([]);
    await b.contacts.create({ name: 'Grace' });
    await until(() => seenByA.length > 0, "A to learn of B's commit");
    expect(texts.some((text) => /pg_notify|LISTEN/i.test(text))).toBe(false);
  });

  it("names the tenants whose feed moved: another tenant's commit makes no observer of this one re-read", async () => {
    const url = inject('postgresUrl');
    bed ??= createPostgresTestBed(url);
    const schema = bed.schemaName('pollt');
    cleanups.push(() => bed!.dropSchema(schema));
    const [here, there] = [0, 1].map(() => createPostgresStorage({ connectionString: url, schema, externalChanges: 'poll', changePollMs: 25, maxConnections: 2 })) as [StorageAdapter, StorageAdapter];
    const p = await createCrm({ storage: here, tenantId: 'p', logger: silentLogger, features: [observers()] });
    // The other process: a crm of tenant q and one of tenant p on one adapter.
    const q = await createCrm({ storage: there, tenantId: 'q', logger: silentLogger, closeStorage: false });
    const pThere = await createCrm({ storage: there, tenantId: 'p', logger: silentLogger });
    cleanups.push(() => p.close(), () => pThere.close(), () => q.close());
    const seen: ChangeBatch[] = [];
    here.onChange((batch) => void (batch.source === 'external' && seen.push(batch)));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the poller has a baseline
    const observer = p.observe.contacts();
    let notified = 0;
    const off = observer.subscribe(() => notified++);
    cleanups.push(off);
    await until(() => observer.getSnapshot().status === 'success', 'the observer to load');
    notified = 0;
    await q.contacts.create({ name: 'Q' });
    await until(() => seen.length > 0, "the poller to see q's commit");
    expect(seen.map((batch) => [batch.resync, batch.tenants])).toEqual([[true, ['q']]]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(notified).toBe(0); // no re-read: not even an isFetching flicker
    await pThere.contacts.create({ name: 'P' });
    await until(() => observer.getSnapshot().data?.items.some((c) => c.name === 'P') === true, "the observer to see p's commit");
    expect(seen.at(-1)!.tenants).toEqual(['p']);
  });

  it('refuses bad options with VALIDATION', () => {
    const url = 'postgres://localhost/none';
    expect(() => createPostgresStorage({ connectionString: url, externalChanges: 'listen' as 'poll' })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => createPostgresStorage({ connectionString: url, externalChanges: 'poll', changePollMs: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => createPostgresStorage({ connectionString: url, changePollMs: 100 })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(createPostgresStorage({ connectionString: url, externalChanges: false }).capabilities.externalChanges).toBe(false);
  });
});
