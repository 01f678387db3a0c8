import { fileURLToPath } from 'node:url';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Tests run against sources, not builds: each package name maps to its `src`. */
export const alias = {
  '@crmkit/core/testing': src('./packages/core/src/testing/index.ts'),
  '@crmkit/core': src('./packages/core/src/index.ts'),
  '@crmkit/storage-sqlite': src('./packages/storage-sqlite/src/index.ts'),
  '@crmkit/storage-indexeddb': src('./packages/storage-indexeddb/src/index.ts'),
  '@crmkit/react-hooks': src('./packages/react-hooks/src/index.ts'),
};
