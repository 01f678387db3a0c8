import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import * as core from '@crmkit/core';
import * as activitiesEntry from '@crmkit/core/activities';
import * as reportsEntry from '@crmkit/core/reports';

const modules: Record<string, unknown> = { '@crmkit/core': core, '@crmkit/core/activities': activitiesEntry, '@crmkit/core/reports': reportsEntry };

/** The README's quick start must run as written. */
it('the README quick start runs', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  const block = /## Quick start\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const body = block!
    .replace(/^import \{([^}]*)\} from '(@crmkit\/core[^']*)';$/gm, (_, names: string, from: string) => `const {${names}} = modules[${JSON.stringify(from)}];`)
    .replace(/deal!\./g, 'deal.');
  const logs: unknown[][] = [];
  const run = new Function('modules', 'console', `return (async () => {\n${body}\n})();`) as (m: typeof modules, log: { log: (...a: unknown[]) => void }) => Promise<void>;
  await run(modules, { log: (...args) => logs.push(args) });
  expect(logs).toEqual([
    ['Analytical Engines', ['New: 1', 'Proposal: 0']],
    [['Difference engine 250000.00 EUR']],
    [[['weighted 82500.00 EUR']]],
  ]);
});
