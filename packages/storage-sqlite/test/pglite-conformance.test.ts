// The storage and reports conformance suites on PGlite (PostgreSQL in WebAssembly, in this process):
// one in-memory database for the file, a fresh schema per test (as on the PostgreSQL server).
import { afterAll, afterEach, describe } from 'vitest';
import { describeReportsConformance, describeStorageConformance } from '@crmkit/core/testing/conformance';
import { createCrmHarness } from '../../core/src/testing/conformance/crm-harness.js';
import { crmFrozenEventTests } from '../../core/src/testing/conformance/crm-frozen-event-tests.js';
import { crmEmptyListRoundTripTests } from '../../core/src/testing/conformance/crm-export-round-trip-tests.js';
import { crmAutomationReadTests } from '../../core/src/testing/conformance/crm-automation-read-tests.js';
import { crmPruneTests } from '../../core/src/testing/conformance/crm-prune-tests.js';
import { crmUnversionedRaceTests } from '../../core/src/testing/conformance/crm-unversioned-race-tests.js';
import { createPgliteStorage, pgliteCapabilities } from '@crmkit/storage-sqlite/pglite';
import { createPgliteTestBed } from './support/pglite-subjects.js';

const bed = await createPgliteTestBed();
afterAll(() => bed.end());
const { pglite } = bed;

describeStorageConformance(
  'pglite',
  () => {
    const schema = bed.schemaName('conf');
    return {
      adapter: createPgliteStorage({ pglite, schema }),
      reopen: async () => createPgliteStorage({ pglite, schema }),
      dispose: () => bed.dropSchema(schema),
    };
  },
  pgliteCapabilities(false),
  { numRuns: 60 },
);

describeReportsConformance('pglite', () => {
  const schema = bed.schemaName('reports');
  return { adapter: createPgliteStorage({ pglite, schema }), dispose: () => bed.dropSchema(schema) };
});

// The whole crm suite runs on the PostgreSQL server (it is slow here); what handlers get, prune's bound,
// the stored shape of empty lists (review16i #4b), automation's reads under a policy (issue 18) and
// unversioned writes from two adapters on one database (PGlite's one connection runs their transactions in turn) run here too.
describe('crm conformance: pglite', { timeout: 120_000 }, () => {
  const harness = createCrmHarness(() => {
    const schema = bed.schemaName('crm');
    return { adapter: createPgliteStorage({ pglite, schema }), peer: () => createPgliteStorage({ pglite, schema }), dispose: () => bed.dropSchema(schema) };
  });
  afterEach(() => harness.cleanup());
  crmFrozenEventTests(() => harness.open());
  crmPruneTests(() => harness.open());
  crmEmptyListRoundTripTests(() => harness.open());
  crmAutomationReadTests(() => harness.open());
  crmUnversionedRaceTests(() => harness.open());
});
