// The storage and reports conformance suites on PGlite (PostgreSQL in WebAssembly, in this process):
// one in-memory database for the file, a fresh schema per test (as on the PostgreSQL server).
import { PGlite } from '@electric-sql/pglite';
import { afterAll } from 'vitest';
import { describeReportsConformance, describeStorageConformance } from '@crmkit/core/testing';
import { createPgliteStorage, pgliteCapabilities } from '@crmkit/storage-sqlite/pglite';

const pglite = await PGlite.create();
afterAll(() => pglite.close());
let n = 0;
const schemaName = (prefix: string) => `${prefix}_${++n}`;
const dropSchema = async (schema: string) => void (await pglite.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

describeStorageConformance(
  'pglite',
  () => {
    const schema = schemaName('conf');
    return {
      adapter: createPgliteStorage({ pglite, schema }),
      reopen: async () => createPgliteStorage({ pglite, schema }),
      dispose: () => dropSchema(schema),
    };
  },
  pgliteCapabilities(false),
  { numRuns: 60 },
);

describeReportsConformance('pglite', () => {
  const schema = schemaName('reports');
  return { adapter: createPgliteStorage({ pglite, schema }), dispose: () => dropSchema(schema) };
});
