import { defineProject } from 'vitest/config';
import { alias } from '../../vitest.shared.js';

// Hooks render in jsdom with @testing-library/react; the server-rendering test uses react-dom/server.
export default defineProject({
  resolve: { alias },
  test: { name: 'react-hooks', include: ['test/**/*.test.{ts,tsx}'], environment: 'jsdom', setupFiles: ['test/setup.ts'] },
});
