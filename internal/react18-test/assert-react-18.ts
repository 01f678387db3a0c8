import { version } from 'react';
import { version as domVersion } from 'react-dom';
import { beforeAll, expect } from 'vitest';

// The point of this project: fail loudly if the aliases stop taking effect and React 19 runs instead.
beforeAll(() => {
  expect(version).toMatch(/^18\./);
  expect(domVersion).toMatch(/^18\./);
});
