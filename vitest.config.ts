import { defineConfig } from 'vitest/config';

// One command runs every test: each package and example declares its own vitest project.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts', 'internal/*/vitest.config.ts'],
  },
});
