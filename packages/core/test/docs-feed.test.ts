import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import * as standardWebhooks from 'standardwebhooks';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as core from '@crmkit/core';
import * as feedEntry from '@crmkit/core/feed';
import * as schedulerEntry from '@crmkit/core/scheduler';
import * as tasksEntry from '@crmkit/core/tasks';
import * as testingEntry from '@crmkit/core/testing';
import * as webhooksEntry from '@crmkit/core/webhooks';
import * as activitiesEntry from '@crmkit/core/activities';
import * as assignmentEntry from '@crmkit/core/assignment';
import * as automationsEntry from '@crmkit/core/automations';

const modules: Record<string, unknown> = {
  '@crmkit/core': core,
  '@crmkit/core/feed': feedEntry,
  '@crmkit/core/scheduler': schedulerEntry,
  '@crmkit/core/tasks': tasksEntry,
  '@crmkit/core/testing': testingEntry,
  '@crmkit/core/webhooks': webhooksEntry,
  '@crmkit/core/activities': activitiesEntry,
  '@crmkit/core/assignment': assignmentEntry,
  '@crmkit/core/automations': automationsEntry,
  standardwebhooks: standardWebhooks,
};

/** The ```ts blocks of a guide, each with the output block that follows it (if any). */
function examples(file: string): { code: string; prints?: string }[] {
  const text = readFileSync(fileURLToPath(new URL(`../../../docs/${file}`, import.meta.url)), 'utf8');
  const out: { code: string; prints?: string }[] = [];
  for (const match of text.matchAll(/```ts\n([\s\S]*?)```\n(?:\nprints\n\n```\n([\s\S]*?)```)?/g)) out.push({ code: match[1]!, ...(match[2] !== undefined ? { prints: match[2] } : {}) });
  return out;
}

/** Strips the types, maps imports to the module map and runs the block; returns what it printed, as Node prints it. */
async function run(code: string): Promise<string> {
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

describe.each(['feed.md', 'webhooks.md', 'automation.md'])('docs/%s examples', (file) => {
  const blocks = examples(file);
  it('has examples, each followed by what it prints', () => {
    expect(blocks.length).toBeGreaterThan(2);
    for (const block of blocks) expect(block.prints, block.code.slice(0, 200)).toBeDefined();
  });
  it.each(blocks.map((b, i) => [i + 1, b] as const))('example %i runs and prints what the guide says', async (_, block) => {
    expect(await run(block.code)).toBe(block.prints);
  });
});
