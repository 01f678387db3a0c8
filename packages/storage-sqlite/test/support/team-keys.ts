// The fixture of the team-key tests (owner keys, review11q): one database opened by several processes,
// crms with and without access() on it, a pipeline and the policy whose team scopes the keys serve.
import Database from 'better-sqlite3';
import { afterAll, afterEach, inject } from 'vitest';
import { createCrm, silentLogger, type CrmFeature, type StorageAdapter } from '@crmkit/core';
import { access, type AccessPolicy } from '@crmkit/core/access';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import { createPgliteStorage } from '@crmkit/storage-sqlite/pglite';
import { createPgliteTestBed } from './pglite-subjects.js';
import { createPostgresTestBed } from './postgres-subjects.js';
import { tempDir } from './temp-dir.js';

/** Registers `close` to run after the current test (newest first). */
export type Defer = (close: () => unknown) => void;

/** Closers of each test, run after it newest first; call once at a test file's top level. */
export function closeAfterEach(): Defer {
  let closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.reverse()) await c();
    closers = [];
  });
  return (close) => void closers.push(close);
}

/** One database seen through as many adapters as `storage()` makes (processes), and raw SQL on its deal table's owner keys. */
export interface KeyDatabase {
  storage(): StorageAdapter;
  keys(): Promise<Record<string, string | null>>;
  setKey(id: string, key: string): Promise<void>;
}

/**
 * A fresh database per call on SQLite (a file, one connection per adapter), PGlite and PostgreSQL (one pool
 * per adapter), named after `prefix`, dropped after the test; the test beds end after the file.
 */
export async function keyDatabases(prefix: string, defer: Defer): Promise<{ sqlite: () => KeyDatabase; pglite: () => KeyDatabase; postgres: () => KeyDatabase }> {
  const pgBed = createPostgresTestBed(inject('postgresUrl'));
  const liteBed = await createPgliteTestBed();
  afterAll(async () => {
    await pgBed.end();
    await liteBed.end();
  });
  return {
    sqlite: () => {
      const tmp = tempDir(`crmkit-${prefix}-`);
      defer(tmp.cleanup);
      const file = tmp.file(`${prefix}.db`);
      let raw: Database.Database | undefined;
      const db = () => {
        if (!raw) {
          raw = new Database(file);
          const opened = raw;
          defer(() => opened.close());
        }
        return raw;
      };
      return {
        storage: () => createSqliteStorage({ filename: file, changePollMs: 25 }),
        keys: async () => Object.fromEntries(db().prepare('SELECT "id", "owner_key" FROM "deal"').raw(true).all() as [string, string | null][]),
        setKey: async (id, key) => void db().prepare('UPDATE "deal" SET "owner_key" = ? WHERE "id" = ?').run(key, id),
      };
    },
    pglite: () => {
      const schema = liteBed.schemaName(prefix);
      defer(() => liteBed.dropSchema(schema));
      return {
        storage: () => createPgliteStorage({ pglite: liteBed.pglite, schema }),
        keys: async () => Object.fromEntries((await liteBed.pglite.query<{ id: string; owner_key: string | null }>(`SELECT "id", "owner_key" FROM "${schema}"."deal"`)).rows.map((r) => [r.id, r.owner_key])),
        setKey: async (id, key) => void (await liteBed.pglite.query(`UPDATE "${schema}"."deal" SET "owner_key" = $1 WHERE "id" = $2`, [key, id])),
      };
    },
    postgres: () => {
      const schema = pgBed.schemaName(prefix);
      defer(() => pgBed.dropSchema(schema));
      return {
        storage: () => createPostgresStorage({ connectionString: pgBed.url, schema, maxConnections: 4 }),
        keys: async () => Object.fromEntries((await pgBed.pool.query<{ id: string; owner_key: string | null }>(`SELECT "id", "owner_key" FROM "${schema}"."deal"`)).rows.map((r) => [r.id, r.owner_key])),
        setKey: async (id, key) => void (await pgBed.pool.query(`UPDATE "${schema}"."deal" SET "owner_key" = $1 WHERE "id" = $2`, [key, id])),
      };
    },
  };
}

/**
 * A crm of tenant `t` on `storage`, closed after the test: with access() and `extra`, or with `extra` alone
 * (typed as the one with access(): a crm opened without it never uses `access`).
 */
export async function openCrm<const F extends readonly CrmFeature[] = []>(storage: StorageAdapter, withAccess: boolean, defer: Defer, extra: F = [] as unknown as F) {
  const features = (withAccess ? [access(), ...extra] : [...extra]) as unknown as readonly [ReturnType<typeof access>, ...F];
  const crm = await createCrm({ storage, tenantId: 't', logger: silentLogger, features });
  defer(() => crm.close());
  return crm;
}

/** The policy the team keys serve: a lead reads and changes the deals of her teams' members. */
export const TEAM_LEAD_POLICY: AccessPolicy = { roles: { lead: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } } }, defaultRoles: ['lead'] };

/** The one-stage pipeline the tests' deals go to. */
export const PIPELINE = { name: 'S', stages: [{ key: 'new', name: 'New' }] };
