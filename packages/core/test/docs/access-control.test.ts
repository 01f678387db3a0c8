import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import * as core from '@crmkit/core';
import * as accessEntry from '@crmkit/core/access';
import * as reportsEntry from '@crmkit/core/reports';
import * as tasksEntry from '@crmkit/core/tasks';

const modules: Record<string, unknown> = { '@crmkit/core': core, '@crmkit/core/access': accessEntry, '@crmkit/core/reports': reportsEntry, '@crmkit/core/tasks': tasksEntry };

/** Drops TypeScript-only syntax the guide's snippets use, so `new Function` can run them. */
function stripTypes(code: string): string {
  return code
    .replace(/\(view: typeof crm\)/g, '(view)')
    .replace(/\(promise: Promise<unknown>\)/g, '(promise)')
    .replace(/\(e: unknown\)/g, '(e)')
    .replace(/const events: string\[\] = \[\];/g, 'const events = [];')
    .replace(/([\w\])])!\./g, '$1.')
    .replace(/([\w\])])!\)/g, '$1)')
    .replace(/([\w\])])!,/g, '$1,');
}

/** Every `ts` block of docs/access-control.md runs in order; each `console.log` prints what its `// →` says. */
it('the access-control guide runs as written', async () => {
  const guide = readFileSync(fileURLToPath(new URL('../../../../docs/access-control.md', import.meta.url)), 'utf8');
  const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThan(10);
  const source = blocks.join('\n');
  const expected = [...source.matchAll(/console\.log\(.*\); \/\/ → (.*)$/gm)].map((m) => JSON.parse(m[1]!) as unknown);
  const body = stripTypes(source).replace(/^import \{([^}]*)\} from '(@crmkit\/core[^']*)';$/gm, (_, names: string, from: string) => `const {${names}} = modules[${JSON.stringify(from)}];`);
  const logs: unknown[] = [];
  const run = new Function('modules', 'console', `return (async () => {\n${body}\n})();`) as (m: typeof modules, log: { log: (value: unknown) => void }) => Promise<void>;
  await run(modules, { log: (value) => logs.push(JSON.parse(JSON.stringify(value)) as unknown) });
  expect(logs).toEqual(expected);
});
