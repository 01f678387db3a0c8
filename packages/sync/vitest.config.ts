import { defineProject } from 'vitest/config';
import { alias } from '../../vitest.shared.js';

// Node tests: the server on memory, SQLite and PostgreSQL (test support starts its own server), devices in process.
export default defineProject({
  resolve: { alias },
  test: {
    name: 'sync',
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/support/postgres-global-setup.ts'],
    hookTimeout: 60_000,
    testTimeout: 60_000,
  },
});
