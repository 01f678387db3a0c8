// Entry point of @crmkit/core/testing: tools for testing host apps' funnel logic under any test runner.
// No vitest here (the adapter suites are in @crmkit/core/testing/conformance); the arbitraries need
// fast-check, an optional peer of @crmkit/core.
export { createFakeClock, type FakeClock } from './fake-clock.js';
export { createTestCrm, allFeatures, type TestCrm, type CreateTestCrmOptions, type AllFeatures } from './create-test-crm.js';
export {
  arbitraries,
  leadArb,
  contactArb,
  companyArb,
  dealArb,
  pipelineArb,
  taskArb,
  activityArb,
  eventArb,
  stageVisitArb,
  customFieldArb,
  type RecordArbitraryOptions,
} from './arbitraries.js';
export {
  DIFFERENTIAL_FIELDS,
  DIFFERENTIAL_CUSTOM_TYPES,
  differentialDatasetArb,
  differentialFilterArb,
  differentialSortArb,
  differentialQueryArb,
  differentialAggregateArb,
} from './query-arbitraries.js';
export { buildReportsDataset, type ReportsDataset, type ReportingCrm } from './reports/reports-dataset.js';
export { BAD_INPUT_TARGETS, poisonFor, seedBadInputData, type BadInputTarget, type BadInputIds } from './crm/bad-input-targets.js';
