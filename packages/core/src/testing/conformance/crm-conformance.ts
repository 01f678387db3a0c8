import { afterEach, describe } from 'vitest';
import { crmAutomationReadTests } from './crm-automation-read-tests.js';
import { crmCompletenessTests } from './crm-completeness-tests.js';
import { crmExternalRefTests } from './crm-external-ref-tests.js';
import { crmClientIdTests } from './crm-client-id-tests.js';
import { crmDifferentialTests, type CrmConformanceOptions } from './crm-differential-tests.js';
import { createCrmHarness } from './crm-harness.js';
import { crmMissingTests } from './crm-missing-tests.js';
import { crmOwnershipTests } from './crm-ownership-tests.js';
import { crmImportTests } from './crm-import-tests.js';
import { crmImportEdgeTests } from './crm-import-edge-tests.js';
import { crmImportLineItemTests } from './crm-import-line-item-tests.js';
import { crmEmptyListRoundTripTests, crmExportRoundTripTests } from './crm-export-round-trip-tests.js';
import { crmMergeTests } from './crm-merge-tests.js';
import { crmFrozenEventTests } from './crm-frozen-event-tests.js';
import { crmRaceTests } from './crm-race-tests.js';
import { crmUnversionedRaceTests } from './crm-unversioned-race-tests.js';
import { crmParentRaceTests } from './crm-parent-race-tests.js';
import { crmTimeRangeTests } from './crm-time-range-tests.js';
import { crmPruneTests } from './crm-prune-tests.js';
import type { ConformanceFactory } from './harness.js';

export type { CrmConformanceOptions };

/**
 * Registers the service-level suite for an adapter: the rules that hold through every public method
 * of a crm, whatever storage it runs on — the crm never freezes, changes or keeps what a caller
 * passed in, and nothing it hands out (results, event payloads, observer snapshots, cached settings)
 * lets a caller change stored state; `crm.events.prune` is not held back by a caught-up consumer with `types`;
 * events handed to handlers (consumers, notice handlers, `crm.on`)
 * and read from the feed are deeply frozen, so a handler that changes its event cannot change what its
 * retry or a replay gets; every method about a record answers `NOT_FOUND` for an id the
 * tenant does not have, and a missing record an input links to is `VALIDATION` at the link's path;
 * no result is cut at an internal limit (timelines of records with more than 1 000 linked ones,
 * forecasts with more than 1 000 unconvertible deals); and the whole crm gives the memory reference's
 * answers and verdicts — bad input to every public method (property-tested, nothing written),
 * `where.same` identity searches, all-day deadlines, lead scoring on every field type it allows;
 * caller-chosen ids on every create service (a taken one is `CONFLICT`, nothing written);
 * external refs (unique per tenant, found by ref, upserted idempotently, scoped in views); merges
 * (every link re-pointed, refs moved, and merge then undo restoring every record as it was, property-tested);
 * computed times (due times, notices, series, leases, retries, cut-offs) within UTC years 0000–9999 near
 * either end, refused with VALIDATION where they are data (property-tested); automation reading only what its
 * service principal may read (`withoutActivity`); empty lists through export and import; races on two connections
 * where the subject has a `peer` (merges, removes and undos against writes linking to what they delete
 * or restore, upserts of one new ref): a serial order's outcome, no dangling link; writes without a
 * `version` racing on one record (updates, funnel moves, owner changes, a first settings row): every
 * call succeeds and every change is in the history, while a stale `version` still fails with `CONFLICT`.
 *
 * @param name Suite name, e.g. `'sqlite (memory)'`.
 * @param factory Makes a fresh, empty, unopened adapter (or a subject with `dispose`) per test.
 * @param options Per-test timeout in ms (default 120 000); runs of each property (`numRuns`, default 25).
 * @example
 * describeCrmConformance('memory', () => createMemoryStorage());
 */
export function describeCrmConformance(name: string, factory: ConformanceFactory, options: CrmConformanceOptions = {}): void {
  const harness = createCrmHarness(factory);
  describe(`crm conformance: ${name}`, { timeout: options.timeout ?? 120_000 }, () => {
    afterEach(() => harness.cleanup());
    crmOwnershipTests(() => harness.open());
    crmFrozenEventTests(() => harness.open());
    crmPruneTests(() => harness.open());
    crmMissingTests(() => harness.open());
    crmCompletenessTests(() => harness.open());
    crmImportTests(() => harness.open());
    crmImportEdgeTests(() => harness.open());
    crmImportLineItemTests(() => harness.open());
    crmExportRoundTripTests(() => harness.open());
    crmEmptyListRoundTripTests(() => harness.open());
    crmExternalRefTests(() => harness.open());
    crmClientIdTests(() => harness.open());
    crmMergeTests(() => harness.open());
    crmTimeRangeTests(() => harness.open(), Math.min(options.numRuns ?? 8, 8));
    crmAutomationReadTests(() => harness.open());
    crmRaceTests(() => harness.open());
    crmUnversionedRaceTests(() => harness.open());
    crmParentRaceTests(() => harness.open());
    crmDifferentialTests(factory, options);
  });
}
