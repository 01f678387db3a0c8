import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAccessConformance, describeCrmConformance, describeReportsConformance, describeStorageConformance } from '@crmkit/core/testing/conformance';
import { createSqliteStorage, sqliteCapabilities } from '@crmkit/storage-sqlite';

describeStorageConformance('sqlite (memory)', () => createSqliteStorage({ filename: ':memory:' }), sqliteCapabilities(false), { numRuns: 100 });

describeStorageConformance(
  'sqlite (file)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'crmkit-sqlite-'));
    const filename = join(dir, 'crm.db');
    return {
      adapter: createSqliteStorage({ filename }),
      reopen: async () => createSqliteStorage({ filename }),
      peer: () => createSqliteStorage({ filename }),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  sqliteCapabilities(true),
  { numRuns: 60 },
);

describeReportsConformance('sqlite (memory)', () => createSqliteStorage({ filename: ':memory:' }));

describeAccessConformance('sqlite (memory)', () => createSqliteStorage({ filename: ':memory:' }));

describeCrmConformance('sqlite (memory)', () => createSqliteStorage({ filename: ':memory:' }));
