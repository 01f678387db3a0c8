import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { extractDocBlocks } from './doc-blocks.js';
import { readDoc } from './doc-files.js';
import { runDocBlocks, type ModuleMap } from './run-doc.js';

/** The instant every doc starts at (a Monday morning): dates written in the docs stay in the future. */
export const docsNow = '2026-03-02T08:00:00.000Z';

/**
 * Declares one test per doc file: its runnable blocks run in order (see runDocBlocks), each block's output
 * must equal its "prints" fence and its `// → <JSON>` comments, and every block is run or marked no-run.
 * The clock starts at {@link docsNow} and runs on (only `Date` is faked; timers stay real).
 * @param files - doc paths relative to the repository root
 * @param modules - what the docs' imports resolve to
 * @returns nothing; declares vitest tests
 * @example describeDocs(['docs/feed.md'], modules)
 */
export function describeDocs(files: string[], modules: ModuleMap): void {
  beforeAll(() => void vi.useFakeTimers({ toFake: ['Date'], now: new Date(docsNow), shouldAdvanceTime: true }));
  afterAll(() => void vi.useRealTimers());
  describe.each(files)('%s', (file) => {
    it('runs as written and prints what it says', async () => {
      const blocks = extractDocBlocks(readDoc(file));
      const pending: Promise<unknown>[] = [];
      // Examples written as tests (docs/testing.md) declare `it(...)`: run their body right away.
      const docIt = (_name: string, body: () => Promise<unknown> | unknown) => void pending.push(Promise.resolve().then(body));
      const runs = await runDocBlocks(blocks, modules, { it: docIt, test: docIt, expect });
      await Promise.all(pending);
      for (const run of runs) {
        const where = `${file}:${run.block.line}`;
        if (process.env.CRMKIT_DOCS_PRINT) process.stdout.write(`--- ${where}\n${run.output}`);
        if (run.block.prints !== undefined) expect(run.output, where).toBe(run.block.prints);
        // A log nobody checks proves nothing: a block that prints says what (a prints fence or `// →`).
        if (run.output !== '' && run.block.prints === undefined) expect(run.logs.length, `${where} prints without saying what`).toBe(run.block.expectedLogs.length);
        if (run.block.expectedLogs.length > 0) expect(run.logs, where).toEqual(run.block.expectedLogs);
      }
    });
  });
}
