import 'fake-indexeddb/auto';
import { expect, it } from 'vitest';
import { extractDocBlocks } from '../src/doc-blocks.js';
import { describeDocs } from '../src/describe-docs.js';
import { docFiles, readDoc } from '../src/doc-files.js';
import { domDocs } from './dom-docs.js';
import { nodeModules } from './modules.js';

const nodeDocs = docFiles().filter((f) => !domDocs.includes(f));

it('every doc is run, by this file or by the DOM one', () => {
  for (const file of domDocs) expect(docFiles()).toContain(file);
  expect(nodeDocs.length + domDocs.length).toBe(docFiles().length);
});

it('every TypeScript block is run or marked no-run with a reason', () => {
  for (const file of docFiles()) {
    for (const block of extractDocBlocks(readDoc(file))) {
      if (block.noRun !== undefined) expect(block.noRun.length, `${file}:${block.line}`).toBeGreaterThan(10);
    }
    // Code in another spelling would escape the runner: TypeScript and JavaScript are written ```ts / ```tsx.
    const escaped = [...readDoc(file).matchAll(/^```(typescript|javascript|js|jsx|mts|cts|mjs)\b/gm)].map((m) => m[0]);
    expect(escaped, file).toEqual([]);
  }
});

describeDocs(nodeDocs, nodeModules);
