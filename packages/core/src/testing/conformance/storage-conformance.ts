import { afterEach, describe, expect, it } from 'vitest';
import type { StorageCapabilities } from '../../storage/storage-adapter.js';
import { boardTotalsTests } from './board-totals-tests.js';
import { changeTests } from './change-tests.js';
import { claimTests } from './claim-tests.js';
import { lockKeyTests } from './lock-key-tests.js';
import { crudTests } from './crud-tests.js';
import { databaseTimeTests } from './database-time-tests.js';
import { differentialTests } from './differential-tests.js';
import { externalChangeTests } from './external-change-tests.js';
import { createHarness, type ConformanceFactory, type ConformanceOptions } from './harness.js';
import { ownershipTests } from './ownership-tests.js';
import { queryTests } from './query-tests.js';
import { runtimeIndexTests } from './runtime-index-tests.js';
import { sequenceTests } from './sequence-tests.js';
import { sizeTests } from './size-tests.js';
import { textTests } from './text-tests.js';
import { uniqueTests } from './unique-tests.js';

/**
 * Registers the storage conformance suite (vitest) for an adapter: CRUD, every filter operator and
 * sort (ties by id), pagination without gaps or repeats, aggregates, version conflicts, rollback,
 * tenant isolation, change batches, sequences in commit order (with concurrent writers), claims that
 * skip locked rows, external changes from a peer connection, row ownership (rows written stay the
 * caller's, rows read cannot change stored state), long id and value lists, materialized aggregates
 * (board totals) under writes, rollbacks and other connections, runtime indexes (`ensureIndexes`), unique
 * keys (one holder per value and tenant, `CONFLICT` otherwise), the database clock (optional
 * `databaseTime`: epoch ms, read fresh, `CLOSED` after close), and
 * property-based differential tests against the reference.
 *
 * @param name Suite name, e.g. `'sqlite (file)'`.
 * @param factory Makes a fresh, empty, unopened adapter (or a subject with `reopen`/`dispose`) per test.
 * @param capabilities What the adapter declares; must equal `adapter.capabilities`.
 * @example
 * describeStorageConformance('memory', () => createMemoryStorage(), createMemoryStorage().capabilities);
 */
export function describeStorageConformance(
  name: string,
  factory: ConformanceFactory,
  capabilities: StorageCapabilities,
  options: ConformanceOptions = {},
): void {
  const harness = createHarness(factory, capabilities, options);
  describe(`storage conformance: ${name}`, { timeout: harness.options.timeout }, () => {
    afterEach(() => harness.cleanup());

    it('declares the capabilities it was registered with', async () => {
      const { adapter } = await harness.open();
      expect(adapter.capabilities).toEqual(capabilities);
    });
    crudTests(harness);
    queryTests(harness);
    changeTests(harness);
    sequenceTests(harness);
    claimTests(harness);
    lockKeyTests(harness);
    externalChangeTests(harness);
    boardTotalsTests(harness);
    runtimeIndexTests(harness);
    ownershipTests(harness);
    sizeTests(harness);
    textTests(harness);
    uniqueTests(harness);
    databaseTimeTests(harness);
    differentialTests(harness);
  });
}
