// Runs the ```ts blocks of the guides (docs/*.md) and compares what they print with the guide.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import * as standardWebhooks from 'standardwebhooks';
import ts from 'typescript';
import * as core from '@crmkit/core';
import * as feedEntry from '@crmkit/core/feed';
import * as schedulerEntry from '@crmkit/core/scheduler';
import * as tasksEntry from '@crmkit/core/tasks';
import * as testingEntry from '@crmkit/core/testing';
import * as webhooksEntry from '@crmkit/core/webhooks';

export const modules: Record<string, unknown> = {
  '@crmkit/core': core,
  '@crmkit/core/feed': feedEntry,
  '@crmkit/core/scheduler': schedulerEntry,
  '@crmkit/core/tasks': tasksEntry,
  '@crmkit/core/testing': testingEntry,
  '@crmkit/core/webhooks': webhooksEntry,
  standardwebhooks: standardWebhooks,
};

/** The ```ts blocks of a guide, each with the output block that follows it (if any). */
export function examples(file: string, section?: string): { code: string; prints?: string }[] {
  let text = readFileSync(fileURLToPath(new URL(`../../../docs/${file}`, import.meta.url)), 'utf8');
  if (section !== undefined) {
    // One `## section` of the guide, up to the next `## ` heading.
    const start = text.indexOf(`\n## ${section}\n`);
    if (start < 0) throw new Error(`docs/${file} has no section "${section}"`);
    const end = text.indexOf('\n## ', start + 4);
    text = text.slice(start, end < 0 ? undefined : end);
  }
  const out: { code: string; prints?: string }[] = [];
  for (const match of text.matchAll(/```ts\n([\s\S]*?)```\n(?:\nprints\n\n```\n([\s\S]*?)```)?/g)) out.push({ code: match[1]!, ...(match[2] !== undefined ? { prints: match[2] } : {}) });
  return out;
}

/** Strips the types, maps imports to the module map and runs the block; returns what it printed, as Node prints it. */
export async function run(code: string): Promise<string> {
  const js = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const body = js
    .replace(/^import \{([^}]*)\} from '([^']+)';$/gm, (_, names: string, from: string) => {
      if (!(from in modules)) throw new Error(`no module ${from} in the docs test's module map`);
      return `const {${names}} = modules[${JSON.stringify(from)}];`;
    })
    .replace(/^export \{\};$/gm, '');
  const lines: string[] = [];
  const log = (...args: unknown[]) => lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 5, breakLength: Infinity }))).join(' '));
  const fn = new Function('modules', 'console', `return (async () => {\n${body}\n})();`) as (m: typeof modules, c: { log: typeof log }) => Promise<void>;
  await fn(modules, { log });
  return lines.map((l) => `${l}\n`).join('');
}

