import { defineProject } from 'vitest/config';
import { alias } from '../../vitest.shared.js';

// Runs every TypeScript block of the docs against the sources (see src/describe-docs.ts).
export default defineProject({
  resolve: { alias },
  test: { name: 'docs', include: ['test/**/*.test.ts'], environment: 'node', testTimeout: 240_000 },
});
