import { defineProject } from 'vitest/config';
import { alias } from '../../vitest.shared.js';

// The test builds the app with Vite, serves dist/ on a free localhost port and drives it in headless
// Chromium (playwright-core; the Chromium of @crmkit/test-support, from npm): all started by the test itself.
export default defineProject({
  resolve: { alias },
  test: { name: 'example-react-board', include: ['test/**/*.test.ts'], environment: 'node', testTimeout: 120_000, hookTimeout: 240_000 },
});
