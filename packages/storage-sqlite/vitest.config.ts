import { defineProject } from 'vitest/config';
import { alias } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias },
  test: {
    name: 'storage-sqlite',
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/support/postgres-global-setup.ts'],
    // Child processes and a PostgreSQL server make some tests slow on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
