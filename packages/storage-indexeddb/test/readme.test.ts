import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as core from '@crmkit/core';
import * as adapter from '@crmkit/storage-indexeddb';
import { expect, it } from 'vitest';

/** The README's example must run as written (on fake-indexeddb, the global IndexedDB of these tests). */
it('the README example runs', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const block = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const body = block!
    .replace(/^import \{([^}]*)\} from '@crmkit\/core';$/m, (_, names: string) => `const {${names}} = core;`)
    .replace(/^import \{([^}]*)\} from '@crmkit\/storage-indexeddb';$/m, (_, names: string) => `const {${names}} = adapter;`)
    .replace(/deal!\./g, 'deal.');
  const logs: unknown[][] = [];
  {
    const run = new Function('core', 'adapter', 'console', `return (async () => {\n${body}\n})();`) as (
      c: typeof core,
      a: typeof adapter,
      log: { log: (...args: unknown[]) => void },
    ) => Promise<void>;
    await run(core, adapter, { log: (...args) => logs.push(args) });
  }
  expect(logs).toEqual([['Difference engine', ['New: 1']]]);
});
