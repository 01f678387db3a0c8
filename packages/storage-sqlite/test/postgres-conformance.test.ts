import { afterAll, describe, inject, it } from 'vitest';
import { describeStorageConformance } from '@crmkit/core/testing';
import { createPostgresStorage, POSTGRES_CAPABILITIES } from '@crmkit/storage-sqlite';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');

if (!url) {
  describe.skip('postgres conformance (CRMKIT_SKIP_POSTGRES=1)', () => it('skipped', () => undefined));
} else {
  const bed = createPostgresTestBed(url);
  afterAll(() => bed.end());

  describeStorageConformance(
    'postgres',
    () => {
      const schema = bed.schemaName('conf');
      return {
        adapter: createPostgresStorage({ pool: bed.pool, schema }),
        reopen: async () => createPostgresStorage({ pool: bed.pool, schema }),
        dispose: () => bed.dropSchema(schema),
      };
    },
    POSTGRES_CAPABILITIES,
    { numRuns: 60 },
  );
}
