import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { expect, it } from 'vitest';
import * as core from '@crmkit/core';
import * as importsEntry from '@crmkit/core/imports';
import * as csvEntry from '@crmkit/core/csv';
import * as customFieldsEntry from '@crmkit/core/custom-fields';

const modules: Record<string, unknown> = { '@crmkit/core': core, '@crmkit/core/imports': importsEntry, '@crmkit/core/csv': csvEntry, '@crmkit/core/custom-fields': customFieldsEntry };

/** The `ts` blocks of the Import and Export sections of docs/integration.md run in order; each `console.log` prints what its `// →` says. */
it('the integration guide (import and export) runs as written', async () => {
  const guide = readFileSync(fileURLToPath(new URL('../../../../docs/integration.md', import.meta.url)), 'utf8');
  // The other sections (External ids) are checked by test/docs-integration.test.ts.
  const start = guide.indexOf('\n## Import\n');
  const afterExport = guide.indexOf('\n## ', guide.indexOf('\n## Export\n') + 1);
  const section = guide.slice(start, afterExport < 0 ? undefined : afterExport);
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const source = blocks.join('\n');
  const expected = [...source.matchAll(/console\.log\(.*\); \/\/ → (.*)$/gm)].map((m) => JSON.parse(m[1]!) as unknown);
  expect(expected.length).toBeGreaterThan(8);
  const replaced = source.replace(/^import \{([^}]*)\} from '(@crmkit\/core[^']*)';$/gm, (_, names: string, from: string) => `const {${names}} = modules[${JSON.stringify(from)}];`);
  // The snippets are TypeScript: esbuild strips the types (and nothing else).
  const body = (await transform(replaced, { loader: 'ts' })).code;
  const logs: unknown[] = [];
  const run = new Function('modules', 'console', `return (async () => {\n${body}\n})();`) as (m: typeof modules, log: { log: (value: unknown) => void }) => Promise<void>;
  await run(modules, { log: (value) => logs.push(JSON.parse(JSON.stringify(value ?? null)) as unknown) });
  expect(logs).toEqual(expected);
});
