import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe } from 'vitest';
import { createCrmHarness } from '../../core/src/testing/conformance/crm-harness.js';
import { crmRaceTests } from '../../core/src/testing/conformance/crm-race-tests.js';
import { crmUnversionedRaceTests } from '../../core/src/testing/conformance/crm-unversioned-race-tests.js';
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

// The crm suite above runs in memory (one connection); its races also on one file through two adapters
// (another process's connection: BEGIN IMMEDIATE makes their writers take turns).
describe('crm races: sqlite (file, two adapters)', { timeout: 120_000 }, () => {
  const harness = createCrmHarness(() => {
    const dir = mkdtempSync(join(tmpdir(), 'crmkit-sqlite-race-'));
    const filename = join(dir, 'crm.db');
    return { adapter: createSqliteStorage({ filename }), peer: () => createSqliteStorage({ filename }), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  });
  afterEach(() => harness.cleanup());
  crmRaceTests(() => harness.open());
  crmUnversionedRaceTests(() => harness.open());
});
