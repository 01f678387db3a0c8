import { fileURLToPath } from 'node:url';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Tests run against sources, not builds: each package name maps to its `src`. */
export const alias = {
  '@crmkit/core/testing/conformance': src('./packages/core/src/testing/conformance/index.ts'),
  '@crmkit/core/testing': src('./packages/core/src/testing/index.ts'),
  '@crmkit/core/tasks': src('./packages/core/src/tasks/index.ts'),
  '@crmkit/core/activities': src('./packages/core/src/activities/index.ts'),
  '@crmkit/core/assignment': src('./packages/core/src/assignment/index.ts'),
  '@crmkit/core/custom-fields': src('./packages/core/src/custom-fields/index.ts'),
  '@crmkit/core/duplicates': src('./packages/core/src/duplicates/index.ts'),
  '@crmkit/core/merges': src('./packages/core/src/merges/index.ts'),
  '@crmkit/core/imports': src('./packages/core/src/imports/index.ts'),
  '@crmkit/core/csv': src('./packages/core/src/csv/index.ts'),
  '@crmkit/core/reports': src('./packages/core/src/reports/index.ts'),
  '@crmkit/core/scoring': src('./packages/core/src/scoring/index.ts'),
  '@crmkit/core/scheduler': src('./packages/core/src/scheduler/index.ts'),
  '@crmkit/core/observe': src('./packages/core/src/observe/index.ts'),
  '@crmkit/core/access': src('./packages/core/src/access/index.ts'),
  '@crmkit/core/timeline': src('./packages/core/src/timeline/index.ts'),
  '@crmkit/core/feed': src('./packages/core/src/feed/index.ts'),
  '@crmkit/core/webhooks': src('./packages/core/src/webhooks/index.ts'),
  '@crmkit/core/automations': src('./packages/core/src/automations/index.ts'),
  '@crmkit/core/describe': src('./packages/core/src/describe/index.ts'),
  '@crmkit/core/storage': src('./packages/core/src/storage/index.ts'),
  '@crmkit/core/phone': src('./packages/core/src/phone/index.ts'),
  '@crmkit/core': src('./packages/core/src/index.ts'),
  '@crmkit/storage-sqlite/pglite': src('./packages/storage-sqlite/src/pglite.ts'),
  '@crmkit/storage-sqlite': src('./packages/storage-sqlite/src/index.ts'),
  '@crmkit/storage-indexeddb': src('./packages/storage-indexeddb/src/index.ts'),
  '@crmkit/react-hooks': src('./packages/react-hooks/src/index.ts'),
  '@crmkit/sync/server': src('./packages/sync/src/server/index.ts'),
  '@crmkit/sync': src('./packages/sync/src/index.ts'),
};
