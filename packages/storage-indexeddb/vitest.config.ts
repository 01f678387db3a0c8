import { defineProject } from 'vitest/config';
import { alias } from '../../vitest.shared.js';

// Node tests run on fake-indexeddb; test/chromium.test.ts drives the same suites in real headless
// Chromium (playwright-core; the Chromium of @crmkit/test-support, from npm) from Node, so one `vitest run` covers both.
export default defineProject({
  resolve: { alias },
  test: {
    name: 'storage-indexeddb',
    include: ['test/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['test/setup-globals.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
