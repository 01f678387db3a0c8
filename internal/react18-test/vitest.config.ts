import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';
import { alias } from '../../vitest.shared.js';

// @crmkit/react-hooks' own tests, run against React 18. The test files and the hooks' sources import
// `react`, `react-dom` and `@testing-library/react`; here those names resolve to this package's copies
// (React 18, and a @testing-library/react whose react peer is 18), so one React runs the whole test.
const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const react = packageDir('react');
const reactDom = packageDir('react-dom');
const testingLibrary = require.resolve('@testing-library/react');

export default defineProject({
  resolve: {
    alias: [
      ...Object.entries(alias).map(([find, replacement]) => ({ find, replacement })),
      { find: /^react$/, replacement: `${react}/index.js` },
      { find: /^react\/(.*)$/, replacement: `${react}/$1.js` },
      { find: /^react-dom$/, replacement: `${reactDom}/index.js` },
      { find: /^react-dom\/(.*)$/, replacement: `${reactDom}/$1.js` },
      { find: /^@testing-library\/react$/, replacement: testingLibrary },
    ],
  },
  test: {
    name: 'react-hooks@react18',
    dir: fileURLToPath(new URL('../../packages/react-hooks/test', import.meta.url)),
    include: ['**/*.test.{ts,tsx}'],
    environment: 'jsdom',
    setupFiles: ['../../packages/react-hooks/test/setup.ts', './assert-react-18.ts'],
  },
});
