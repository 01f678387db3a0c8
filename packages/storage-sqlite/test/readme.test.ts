import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import * as core from '@crmkit/core';
import * as customFieldsEntry from '@crmkit/core/custom-fields';
import * as storage from '@crmkit/storage-sqlite';
import * as pgliteStorage from '@crmkit/storage-sqlite/pglite';
import { createTestPglite } from './support/pglite-subjects.js';
import { tempDir } from './support/temp-dir.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** The README's quick start must run as written (on a temporary file instead of ./crm.db). */
it('the README quick start runs', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const block = /## Quick start\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const body = block!
    .replace(/^import \{([^}]*)\} from '@crmkit\/core';$/m, (_, names: string) => `const {${names}} = core;`)
    .replace(/^import \{([^}]*)\} from '@crmkit\/core\/custom-fields';$/m, (_, names: string) => `const {${names}} = customFieldsEntry;`)
    .replace(/^import \{([^}]*)\} from '@crmkit\/storage-sqlite';$/m, (_, names: string) => `const {${names}} = storage;`)
    .replace("filename: 'crm.db'", `filename: ${JSON.stringify(tmp.file('crm.db'))}`);
  expect(body).not.toMatch(/^import /m);
  const logs: unknown[][] = [];
  const run = new Function('core', 'customFieldsEntry', 'storage', 'console', `return (async () => {\n${body}\n})();`) as (
    c: typeof core,
    f: typeof customFieldsEntry,
    s: typeof storage,
    log: { log: (...a: unknown[]) => void },
  ) => Promise<void>;
  await run(core, customFieldsEntry, storage, { log: (...args) => logs.push(args) });
  expect(logs).toEqual([[['New: 1', 'Proposal: 0']], [['Office chairs'], true]]);
});

/** The README's PGlite example must run as written (on the test PGlite, which starts faster than a fresh one). */
it('the README PGlite example runs', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const block = /### `createPgliteStorage\(options\)`[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const body = block!
    .replace(/^import \{ PGlite \} from '@electric-sql\/pglite';$/m, 'const PGlite = { create: createTestPglite };')
    .replace(/^import \{([^}]*)\} from '@crmkit\/core';$/m, (_, names: string) => `const {${names}} = core;`)
    .replace(/^import \{([^}]*)\} from '@crmkit\/storage-sqlite\/pglite';$/m, (_, names: string) => `const {${names}} = pgliteStorage;`);
  expect(body).not.toMatch(/^import /m);
  const logs: unknown[][] = [];
  const run = new Function('core', 'pgliteStorage', 'createTestPglite', 'console', `return (async () => {\n${body}\n})();`) as (
    c: typeof core,
    p: typeof pgliteStorage,
    create: typeof createTestPglite,
    log: { log: (...a: unknown[]) => void },
  ) => Promise<void>;
  await run(core, pgliteStorage, createTestPglite, { log: (...args) => logs.push(args) });
  expect(logs).toEqual([[['New: 0', 'Proposal: 1']]]);
});
