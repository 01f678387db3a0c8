// Entry point of @crmkit/core/testing/conformance: the vitest suites every storage adapter passes.
// Needs vitest and fast-check (optional peers of @crmkit/core); `@crmkit/core/testing` needs neither vitest nor this file.
export { describeStorageConformance } from './storage-conformance.js';
export { describeReportsConformance } from './reports-conformance.js';
export { describeCrmConformance, type CrmConformanceOptions } from './crm-conformance.js';
export type { ConformanceFactory, ConformanceOptions, ConformanceSubject } from './harness.js';
export { describeAccessConformance } from './access-conformance.js';
export { checkCommitOrder, type CommitOrderOptions, type CommitOrderReport } from './commit-order.js';
