import { afterAll, inject } from 'vitest';
import { describeAccessConformance, describeCrmConformance, describeReportsConformance, describeStorageConformance } from '@crmkit/core/testing/conformance';
import { createPostgresStorage, POSTGRES_CAPABILITIES } from '@crmkit/storage-sqlite';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');
{
  const bed = createPostgresTestBed(url);
  afterAll(() => bed.end());

  describeStorageConformance(
    'postgres',
    () => {
      const schema = bed.schemaName('conf');
      return {
        adapter: createPostgresStorage({ pool: bed.pool, schema }),
        reopen: async () => createPostgresStorage({ pool: bed.pool, schema }),
        peer: () => createPostgresStorage({ pool: bed.pool, schema }),
        dispose: () => bed.dropSchema(schema),
      };
    },
    POSTGRES_CAPABILITIES,
    { numRuns: 60 },
  );

  describeAccessConformance('postgres', () => {
    const schema = bed.schemaName('access');
    return { adapter: createPostgresStorage({ pool: bed.pool, schema }), dispose: () => bed.dropSchema(schema) };
  });

  describeCrmConformance('postgres', () => {
    const schema = bed.schemaName('crm');
    // peer: another adapter on the schema, whose transactions overlap the first's (the races).
    return { adapter: createPostgresStorage({ pool: bed.pool, schema }), peer: () => createPostgresStorage({ pool: bed.pool, schema }), dispose: () => bed.dropSchema(schema) };
  });

  describeReportsConformance('postgres', () => {
    const schema = bed.schemaName('reports');
    return { adapter: createPostgresStorage({ pool: bed.pool, schema }), dispose: () => bed.dropSchema(schema) };
  });
}
