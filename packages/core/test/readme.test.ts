import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import * as core from '@crmkit/core';

/** The README's quick start must run as written. */
it('the README quick start runs', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  const block = /## Quick start\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const body = block!
    .replace(/^import \{([^}]*)\} from '@crmkit\/core';$/m, (_, names: string) => `const {${names}} = core;`)
    .replace(/deal!\./g, 'deal.');
  const logs: unknown[][] = [];
  const run = new Function('core', 'console', `return (async () => {\n${body}\n})();`) as (c: typeof core, log: { log: (...a: unknown[]) => void }) => Promise<void>;
  await run(core, { log: (...args) => logs.push(args) });
  expect(logs).toEqual([
    ['Analytical Engines', ['New: 1', 'Proposal: 0']],
    [['Difference engine 250000 EUR']],
  ]);
});
