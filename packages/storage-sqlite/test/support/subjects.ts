import { inject } from 'vitest';
import type { StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import { createPgliteStorage } from '@crmkit/storage-sqlite/pglite';
import { createPgliteTestBed, type PgliteTestBed } from './pglite-subjects.js';
import { createPostgresTestBed, type PostgresTestBed } from './postgres-subjects.js';
import { tempDir } from './temp-dir.js';

/** A way to make a fresh adapter of one kind, for tests that run on every engine. */
export interface Subject {
  readonly name: string;
  /** A fresh, empty adapter, not yet opened; `dispose` removes what it made. */
  make(): Promise<{ adapter: StorageAdapter; dispose: () => Promise<void> }>;
}

let bed: PostgresTestBed | undefined;
let pgliteBed: Promise<PgliteTestBed> | undefined;

/** SQLite in memory, SQLite on a file, PGlite (in memory), and PostgreSQL when the test server is there. */
export function subjects(): Subject[] {
  const url = inject('postgresUrl');
  const list: Subject[] = [
    { name: 'sqlite (memory)', make: async () => ({ adapter: createSqliteStorage({ filename: ':memory:' }), dispose: async () => undefined }) },
    {
      name: 'sqlite (file)',
      make: async () => {
        const tmp = tempDir();
        return { adapter: createSqliteStorage({ filename: tmp.file('crm.db') }), dispose: async () => tmp.cleanup() };
      },
    },
    {
      name: 'pglite',
      make: async () => {
        pgliteBed ??= createPgliteTestBed();
        const b = await pgliteBed;
        const schema = b.schemaName('s');
        return { adapter: createPgliteStorage({ pglite: b.pglite, schema }), dispose: () => b.dropSchema(schema) };
      },
    },
  ];
  if (url) {
    list.push({
      name: 'postgres',
      make: async () => {
        bed ??= createPostgresTestBed(url);
        const schema = bed.schemaName('s');
        return { adapter: createPostgresStorage({ pool: bed.pool, schema }), dispose: () => bed!.dropSchema(schema) };
      },
    });
  }
  return list;
}

/** Ends the shared PostgreSQL pool and PGlite database (call from `afterAll`). */
export async function endSubjects(): Promise<void> {
  await bed?.end();
  bed = undefined;
  await (await pgliteBed)?.end();
  pgliteBed = undefined;
}

/** Makes and opens an adapter of `subject`. */
export async function openSubject(subject: Subject): Promise<{ adapter: StorageAdapter; dispose: () => Promise<void> }> {
  const made = await subject.make();
  await made.adapter.open(CRM_STORAGE_SCHEMA);
  return {
    adapter: made.adapter,
    dispose: async () => {
      await made.adapter.close();
      await made.dispose();
    },
  };
}
