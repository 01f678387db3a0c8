// Entry point of @crmkit/core/testing: tools for testing adapters and host apps' funnel logic.
export { describeStorageConformance, type ConformanceFactory, type ConformanceOptions, type ConformanceSubject } from './conformance/index.js';
export { createFakeClock, type FakeClock } from './fake-clock.js';
export { createTestCrm, type TestCrm, type CreateTestCrmOptions, type AllFeatures } from './create-test-crm.js';
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
export { describeReportsConformance } from './reports/reports-conformance.js';
export { buildReportsDataset, type ReportsDataset } from './reports/reports-dataset.js';
