import { defineProject } from 'vitest/config';
import { alias } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias },
  // Starting PostgreSQL (initdb) takes a few seconds on a busy machine.
  test: { name: 'example-erp-sync', include: ['test/**/*.test.ts'], environment: 'node', hookTimeout: 120_000, testTimeout: 120_000 },
});
